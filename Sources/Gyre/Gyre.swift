@_exported import GyreArrays
@_exported import GyreData
@_exported import GyreStorage
@_exported import GyreCodecs
@_exported import GyreZarr
