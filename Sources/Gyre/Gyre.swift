@_exported import GyreArrays
@_exported import GyreCompute
@_exported import GyreData
@_exported import GyreExpr
@_exported import GyreStorage
@_exported import GyreCodecs
@_exported import GyreZarr
@_exported import GyreNetCDF
