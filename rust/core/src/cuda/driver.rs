//! Loading NVRTC and the CUDA driver at run time, compiling and launching the kernels.
