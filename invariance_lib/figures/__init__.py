"""The book's figure functions (matplotlib).

One module per topic; the notebooks compute, these modules draw:

- ``images``: images, orbits on a pixel grid, matrices (chapter 1 and throughout);
- ``low_rank``: the rank-one cone and loss curves between critical values
  (chapters 2 and 3);
- ``hardwiring``: the hard-wired optimum on MNIST, training against it, the error
  per data direction (chapter 4 and the appendix on a singular ``XXᵀ``);
- ``regularisation``: the regularisation path (chapter 5);
- ``augmentation``: partial, weighted and random augmentation (chapter 6);
- ``critical_points``: critical points of the three problems (chapter 7);
- ``histories``, ``section4``: training histories and the Section 4 figures
  (chapter 8);
- ``appendix_c``: cross-entropy and nonlinear networks (chapters 9 and 10);
- ``wperp_dynamics``: the dynamics of ``W_⊥`` (chapter 11);
- ``explorer``: the interactive explorers.
"""
