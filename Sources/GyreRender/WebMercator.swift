import Foundation

/// The slippy-map tile scheme (OpenStreetMap, Google, Leaflet): Web Mercator (EPSG:3857) on a
/// sphere of radius 6,378,137 m, tiles of 256 px, `2^z` a side at zoom `z`, tile (0, 0) at the
/// top left (north-west), latitudes to ±85.0511° (where the square world ends).
public enum WebMercator {
    public static let radius = 6_378_137.0
    /// Half the world's width in metres (π R).
    public static let extent = Double.pi * radius
    /// The latitude where the square world ends, atan(sinh(π)) in degrees.
    public static let maxLatitude = atan(sinh(Double.pi)) * 180 / .pi
    public static let tileSize = 256
    public static let maxZoom = 24

    /// Metres east of Greenwich.
    public static func x(longitude: Double) -> Double { radius * longitude * .pi / 180 }

    /// Metres north of the equator; latitudes are clamped to ±89.9999° so the poles stay finite.
    public static func y(latitude: Double) -> Double {
        let phi = Swift.max(-89.9999, Swift.min(89.9999, latitude)) * .pi / 180
        return radius * Foundation.log(Foundation.tan(.pi / 4 + phi / 2))
    }

    public static func latitude(y: Double) -> Double { atan(sinh(y / radius)) * 180 / .pi }
    public static func longitude(x: Double) -> Double { x / radius * 180 / .pi }

    /// A tile's extent in metres: x from west to east, y from south to north.
    public static func bounds(z: Int, x: Int, y: Int) -> (x: ClosedRange<Double>, y: ClosedRange<Double>) {
        let n = Double(1 << z), size = 2 * extent / n
        let west = -extent + Double(x) * size, north = extent - Double(y) * size
        return (west...(west + size), (north - size)...north)
    }

    /// A tile's extent in degrees: west, south, east, north.
    public static func lonLatBounds(z: Int, x: Int, y: Int) -> (west: Double, south: Double, east: Double, north: Double) {
        let b = bounds(z: z, x: x, y: y)
        return (longitude(x: b.x.lowerBound), latitude(y: b.y.lowerBound), longitude(x: b.x.upperBound), latitude(y: b.y.upperBound))
    }

    /// Checks a tile index: `0 <= z <= 24`, `0 <= x, y < 2^z`.
    public static func check(z: Int, x: Int, y: Int) throws {
        guard (0...maxZoom).contains(z) else {
            throw GyreRenderError(.invalidArgument, "zoom \(z) is not in 0...\(maxZoom)")
        }
        let n = 1 << z
        guard (0..<n).contains(x), (0..<n).contains(y) else {
            throw GyreRenderError(.invalidArgument, "tile \(z)/\(x)/\(y) does not exist: at zoom \(z) x and y are in 0...\(n - 1)")
        }
    }

    /// The tile's canvas: 256 x 256 pixels over its extent in metres, a window of the world's
    /// canvas at zoom `z` (256 * 2^z pixels a side), so tiles put every edge where one
    /// rendering of the world would.
    public static func canvas(z: Int, x: Int, y: Int, size: Int = tileSize) throws -> Canvas {
        try check(z: z, x: x, y: y)
        let n = size << z
        return try Canvas.window(ofWidth: n, height: n, xRange: -extent...extent, yRange: -extent...extent,
                                 column: size * x, row: n - size * (y + 1), width: size, height: size)
    }
}
