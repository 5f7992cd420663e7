// The netCDF C library (Debian: libnetcdf-dev), found through pkg-config "netcdf".
#include <netcdf.h>
