// The HDF5 library under netcdf-c (Debian: libhdf5-dev), found through pkg-config "hdf5".
#include <hdf5.h>

// H5E_DEFAULT is a cast macro Swift cannot import.
static inline herr_t gyre_hdf5_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
