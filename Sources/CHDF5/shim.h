// The HDF5 library under netcdf-c (Debian: libhdf5-dev), found through pkg-config "hdf5".
#include <hdf5.h>

// H5E_DEFAULT, H5P_DEFAULT, H5F_ACC_RDONLY and H5P_FILE_ACCESS are macros Swift cannot import.
static inline herr_t gyre_hdf5_silence_errors(void) { return H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

// Opens a file read-only beside any handle netcdf-c already holds on it (HDF5 shares one open
// file; the close degree must match the first opener's, so a second try uses "semi").
static inline hid_t gyre_h5_open_readonly(const char *path) {
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f >= 0) return f;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return fapl;
    H5Pset_fclose_degree(fapl, H5F_CLOSE_SEMI);
    f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    return f;
}

static inline hid_t gyre_h5_open_dataset(hid_t file, const char *path) { return H5Dopen2(file, path, H5P_DEFAULT); }

static inline haddr_t gyre_h5_undefined_address(void) { return HADDR_UNDEF; }
