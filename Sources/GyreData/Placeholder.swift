import GyreArrays
