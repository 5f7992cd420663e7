@_exported import GyreArrays
@_exported import GyreData
