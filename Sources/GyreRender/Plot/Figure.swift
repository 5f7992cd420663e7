import Foundation

/// A colour with alpha, 8 bits a channel.
public struct RGBA: Sendable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8, a: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8, _ a: UInt8 = 255) {
        self.r = r; self.g = g; self.b = b; self.a = a
    }
    public static let black = RGBA(0, 0, 0)
    public static let white = RGBA(255, 255, 255)

    var svg: String {
        let hex = String(format: "#%02x%02x%02x", r, g, b)
        return a == 255 ? hex : hex + String(format: "\" fill-opacity=\"%.3f", Double(a) / 255)
    }
    var svgStroke: String {
        let hex = String(format: "#%02x%02x%02x", r, g, b)
        return a == 255 ? hex : hex + String(format: "\" stroke-opacity=\"%.3f", Double(a) / 255)
    }
}

/// A picture in pixels (origin top left, y down), drawn as SVG or rasterized to RGBA with
/// FreeType text: what `Plot` lays out, in one model for both outputs.
public struct Figure: Sendable {
    public let width: Int
    public let height: Int
    public var background: RGBA
    public private(set) var items: [Item] = []

    public enum Anchor: String, Sendable { case start, middle, end }

    public enum Item: Sendable {
        case rect(x: Double, y: Double, width: Double, height: Double, fill: RGBA)
        case polyline([(Double, Double)], color: RGBA, width: Double)
        /// An image (row 0 at the bottom, as `RGBAImage`s are) stretched over the rectangle.
        case image(RGBAImage, x: Double, y: Double, width: Double, height: Double)
        /// Text whose baseline passes through (x, y); `vertical` runs it upwards (a y-axis label).
        case text(String, x: Double, y: Double, size: Double, anchor: Anchor, vertical: Bool, color: RGBA)
    }

    public init(width: Int, height: Int, background: RGBA = .white) throws {
        guard (16...8192).contains(width), (16...8192).contains(height) else {
            throw GyreRenderError(.invalidArgument, "a figure is 16 to 8192 pixels a side, not \(width)x\(height)")
        }
        self.width = width
        self.height = height
        self.background = background
    }

    public mutating func add(_ item: Item) { items.append(item) }

    // MARK: SVG

    /// The figure as an SVG document (text as SVG text in DejaVu Sans or the viewer's sans-serif,
    /// images as embedded PNG).
    public func svg() throws -> String {
        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="DejaVu Sans, Bitstream Vera Sans, sans-serif">
        <rect x="0" y="0" width="\(width)" height="\(height)" fill="\(background.svg)"/>

        """
        func n(_ v: Double) -> String {
            // Coordinates far outside the figure are drawn at a far edge (and NaN at 0).
            let r = ((v.isNaN ? 0 : Swift.min(Swift.max(v, -1e6), 1e6)) * 100).rounded() / 100
            return r == r.rounded() ? String(Int(r)) : String(r)
        }
        for item in items {
            switch item {
            case .rect(let x, let y, let w, let h, let fill):
                out += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"\(fill.svg)\"/>\n"
            case .polyline(let points, let color, let w):
                guard points.count >= 2 else { continue }
                let p = points.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
                out += "<polyline points=\"\(p)\" fill=\"none\" stroke=\"\(color.svgStroke)\" stroke-width=\"\(n(w))\" stroke-linejoin=\"round\" stroke-linecap=\"round\"/>\n"
            case .image(let image, let x, let y, let w, let h):
                let png = try PNG.encode(image)
                out += "<image x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" preserveAspectRatio=\"none\" "
                    + "style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(Data(png).base64EncodedString())\"/>\n"
            case .text(let s, let x, let y, let size, let anchor, let vertical, let color):
                let rotate = vertical ? " transform=\"rotate(-90 \(n(x)) \(n(y)))\"" : ""
                out += "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(color.svg)\"\(rotate)>"
                    + Self.escapeXML(s) + "</text>\n"
            }
        }
        return out + "</svg>\n"
    }

    static func escapeXML(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // Control characters are not allowed in XML 1.0.
                if c.value < 0x20 && c != "\n" && c != "\t" { out += " " } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    // MARK: Raster

    /// The figure rasterized (row 0 at the bottom, as `RGBAImage`s are; `PNG.encode` writes it
    /// top row first). Lines are antialiased by their distance to each pixel's centre; text is
    /// FreeType's coverage of `font`.
    public func raster(font: Font) -> RGBAImage {
        var buffer = RasterBuffer(width: width, height: height, fill: background)
        for item in items {
            switch item {
            case .rect(let x, let y, let w, let h, let fill): buffer.fill(x: x, y: y, width: w, height: h, fill)
            case .polyline(let points, let color, let w): buffer.stroke(points, color: color, width: w)
            case .image(let image, let x, let y, let w, let h): buffer.draw(image, x: x, y: y, width: w, height: h)
            case .text(let s, let x, let y, let size, let anchor, let vertical, let color):
                guard size.isFinite, size >= 1, size <= 512 else { continue }
                buffer.text(s, x: x, y: y, size: Int(size.rounded()), anchor: anchor, vertical: vertical, color: color, font: font)
            }
        }
        return buffer.image()
    }
}

/// RGBA pixels top row first, with source-over blending.
struct RasterBuffer {
    let width: Int, height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int, fill: RGBA) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 4)
        for i in 0..<(width * height) {
            pixels[4 * i] = fill.r; pixels[4 * i + 1] = fill.g; pixels[4 * i + 2] = fill.b; pixels[4 * i + 3] = fill.a
        }
    }

    /// Blends `c` over the pixel at (x, y) with `coverage` in 0...1.
    mutating func blend(_ x: Int, _ y: Int, _ c: RGBA, _ coverage: Double) {
        guard x >= 0, y >= 0, x < width, y < height, coverage > 0 else { return }
        let a = Double(c.a) / 255 * Swift.min(coverage, 1)
        let i = (y * width + x) * 4
        let da = Double(pixels[i + 3]) / 255
        let oa = a + da * (1 - a)
        guard oa > 0 else { return }
        func mix(_ s: UInt8, _ d: UInt8) -> UInt8 {
            UInt8(((Double(s) * a + Double(d) * da * (1 - a)) / oa).rounded().clamped(0, 255))
        }
        pixels[i] = mix(c.r, pixels[i]); pixels[i + 1] = mix(c.g, pixels[i + 1]); pixels[i + 2] = mix(c.b, pixels[i + 2])
        pixels[i + 3] = UInt8((oa * 255).rounded().clamped(0, 255))
    }

    /// A coordinate as a pixel index, clamped to a margin around the figure (NaN: nil).
    static func pixel(_ v: Double, _ rule: FloatingPointRoundingRule = .toNearestOrAwayFromZero) -> Int? {
        v.isNaN ? nil : Int(Swift.min(Swift.max(v, -1e6), 1e6).rounded(rule))
    }

    /// The pixels from `a` to `b` that lie within `0..<n` (empty when none).
    static func span(_ a: Int, _ b: Int, _ n: Int) -> Range<Int> {
        let lo = Swift.max(0, a), hi = Swift.min(n, b)
        return lo < hi ? lo..<hi : 0..<0
    }

    mutating func fill(x: Double, y: Double, width w: Double, height h: Double, _ c: RGBA) {
        guard let x0 = Self.pixel(x), let y0 = Self.pixel(y), let x1 = Self.pixel(x + w), let y1 = Self.pixel(y + h) else { return }
        for row in Self.span(y0, y1, height) {
            for col in Self.span(x0, x1, width) { blend(col, row, c, 1) }
        }
    }

    /// A polyline of `width` pixels: each pixel takes the largest coverage any segment gives it
    /// (so joints are not blended twice), then is blended once.
    mutating func stroke(_ points: [(Double, Double)], color: RGBA, width lw: Double) {
        // Points far outside are brought to a margin around the figure (a line there is not
        // seen); a line with a NaN point or width is not drawn.
        guard points.count >= 2, lw.isFinite, lw > 0, lw < 100, !points.contains(where: { $0.0.isNaN || $0.1.isNaN }) else { return }
        let points = points.map { (Swift.min(Swift.max($0.0, -1e4), 1e4), Swift.min(Swift.max($0.1, -1e4), 1e4)) }
        let half = lw / 2
        let pad = half + 1
        let xs = points.map(\.0), ys = points.map(\.1)
        let bx0 = Swift.max(0, Int((xs.min()! - pad).rounded(.down))), bx1 = Swift.min(width - 1, Int((xs.max()! + pad).rounded(.up)))
        let by0 = Swift.max(0, Int((ys.min()! - pad).rounded(.down))), by1 = Swift.min(height - 1, Int((ys.max()! + pad).rounded(.up)))
        guard bx1 >= bx0, by1 >= by0 else { return }
        let bw = bx1 - bx0 + 1
        // Coverage in 1/255ths, the largest any segment gives each pixel.
        var cover = [UInt8](repeating: 0, count: bw * (by1 - by0 + 1))
        for k in 0..<(points.count - 1) {
            let (ax, ay) = points[k], (qx, qy) = points[k + 1]
            let dx = qx - ax, dy = qy - ay
            let len2 = dx * dx + dy * dy
            let sx0 = Swift.max(bx0, Int((Swift.min(ax, qx) - pad).rounded(.down))), sx1 = Swift.min(bx1, Int((Swift.max(ax, qx) + pad).rounded(.up)))
            let sy0 = Swift.max(by0, Int((Swift.min(ay, qy) - pad).rounded(.down))), sy1 = Swift.min(by1, Int((Swift.max(ay, qy) + pad).rounded(.up)))
            guard sx1 >= sx0, sy1 >= sy0 else { continue }
            for py in sy0...sy1 {
                for px in sx0...sx1 {
                    let cx = Double(px) + 0.5, cy = Double(py) + 0.5
                    var t = len2 > 0 ? ((cx - ax) * dx + (cy - ay) * dy) / len2 : 0
                    t = Swift.min(1, Swift.max(0, t))
                    let ex = ax + t * dx - cx, ey = ay + t * dy - cy
                    let c = UInt8((Swift.min(1, Swift.max(0, half + 0.5 - (ex * ex + ey * ey).squareRoot())) * 255).rounded())
                    let i = (py - by0) * bw + (px - bx0)
                    if c > cover[i] { cover[i] = c }
                }
            }
        }
        for py in by0...by1 {
            for px in bx0...bx1 {
                let c = cover[(py - by0) * bw + (px - bx0)]
                if c > 0 { blend(px, py, color, Double(c) / 255) }
            }
        }
    }

    /// An image (row 0 at the bottom) stretched over a rectangle, nearest pixel.
    mutating func draw(_ image: RGBAImage, x: Double, y: Double, width w: Double, height h: Double) {
        guard w > 0, h > 0, image.width > 0, image.height > 0, let x0 = Self.pixel(x), let y0 = Self.pixel(y),
              let x1 = Self.pixel(x + w), let y1 = Self.pixel(y + h), x1 > x0, y1 > y0 else { return }
        for row in Self.span(y0, y1, height) {
            // Row `row` of the figure shows the image's row from the top.
            let fromTop = Swift.min(image.height - 1, Int((Double(row - y0) + 0.5) / Double(y1 - y0) * Double(image.height)))
            let src = image.height - 1 - fromTop
            for col in Self.span(x0, x1, width) {
                let sc = Swift.min(image.width - 1, Int((Double(col - x0) + 0.5) / Double(x1 - x0) * Double(image.width)))
                let p = image[sc, src]
                if p.a > 0 { blend(col, row, RGBA(p.r, p.g, p.b, p.a), 1) }
            }
        }
    }

    mutating func text(_ s: String, x: Double, y: Double, size: Int, anchor: Figure.Anchor, vertical: Bool, color: RGBA, font: Font) {
        guard let ox = Self.pixel(x), let oy = Self.pixel(y), (1...512).contains(size) else { return }
        let total = font.width(of: s, size: size)
        var pen: Double
        switch anchor {
        case .start: pen = 0
        case .middle: pen = -total / 2
        case .end: pen = -total
        }
        for scalar in s.unicodeScalars {
            let g = font.glyph(scalar, size: size)
            let gx = Int(pen.rounded()) + g.left
            for r in 0..<g.rows {
                for c in 0..<g.width {
                    let cov = g.coverage[r * g.width + c]
                    guard cov > 0 else { continue }
                    // (along, below) from the anchor: along the baseline, and below it.
                    let along = gx + c, below = r - g.top
                    let px = vertical ? ox + below : ox + along
                    let py = vertical ? oy - along : oy + below
                    blend(px, py, color, Double(cov) / 255)
                }
            }
            pen += g.advance
        }
    }

    /// As an `RGBAImage` (row 0 at the bottom).
    func image() -> RGBAImage {
        var out = [UInt8](repeating: 0, count: pixels.count)
        let stride = width * 4
        for row in 0..<height {
            let src = (height - 1 - row) * stride
            out.replaceSubrange(row * stride..<(row + 1) * stride, with: pixels[src..<(src + stride)])
        }
        return RGBAImage(width: width, height: height, pixels: out)
    }
}

extension Double {
    func clamped(_ lo: Double, _ hi: Double) -> Double { Swift.min(hi, Swift.max(lo, self)) }
}
