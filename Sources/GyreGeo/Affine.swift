/// An affine transform from pixel (column, row) to map (x, y) coordinates, in rasterio's
/// order: x = a*col + b*row + c, y = d*col + e*row + f. Pixel (0, 0) is the corner of the
/// first pixel; its centre is (0.5, 0.5).
public struct Affine: Sendable, Hashable, CustomStringConvertible {
    public var a, b, c, d, e, f: Double

    public init(_ a: Double, _ b: Double, _ c: Double, _ d: Double, _ e: Double, _ f: Double) {
        (self.a, self.b, self.c, self.d, self.e, self.f) = (a, b, c, d, e, f)
    }

    /// From six terms in rasterio's order.
    public init(_ t: [Double]) throws {
        guard t.count == 6, t.allSatisfy(\.isFinite) else { throw GyreGeoError(.invalidArgument, "a transform needs 6 finite terms, got \(t)") }
        self.init(t[0], t[1], t[2], t[3], t[4], t[5])
    }

    /// A north-up grid: pixels `xres` wide and `yres` tall from the corner (west, north).
    public static func northUp(west: Double, north: Double, xres: Double, yres: Double) -> Affine {
        Affine(xres, 0, west, 0, -abs(yres), north)
    }

    public var terms: [Double] { [a, b, c, d, e, f] }
    public var description: String { "Affine(\(terms.map { "\($0)" }.joined(separator: ", ")))" }
    public var isRectilinear: Bool { b == 0 && d == 0 }

    /// The same corner with pixels `x` and `y` times as large (an overview's grid).
    public func scaled(x: Double, y: Double) -> Affine { Affine(a * x, b * y, c, d * x, e * y, f) }

    /// GDAL's GeoTransform attribute: c a b f d e, whole numbers written with ".0".
    public var gdalGeoTransform: String {
        [c, a, b, f, d, e].map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) + ".0" : "\($0)" }.joined(separator: " ")
    }

    public func apply(col: Double, row: Double) -> (x: Double, y: Double) { (a * col + b * row + c, d * col + e * row + f) }

    public var inverse: Affine? {
        let det = a * e - b * d
        guard det != 0, det.isFinite else { return nil }
        let ia = e / det, ib = -b / det, id = -d / det, ie = a / det
        return Affine(ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f))
    }
}
