/// The circle a pixel spreads to: offsets within `radius + 0.5` (datashader's `_circle_mask`).
func circleMask(_ r: Int) -> [(dy: Int, dx: Int)] {
    var out: [(Int, Int)] = []
    for i in -r...r {
        for j in -r...r where Double(i * i + j * j).squareRoot() <= Double(r) + 0.5 { out.append((i, j)) }
    }
    return out
}

/// Spreads every pixel with data to a circle of `radius` pixels, compositing with the `over`
/// operator in row order as datashader's `tf.spread(img, px)` does, so sparse points show.
public func spread(_ image: RGBAImage, radius: Int) throws -> RGBAImage {
    guard radius >= 0 else { throw GyreRenderError(.invalidArgument, "spread radius \(radius) must be at least 0") }
    guard radius <= 64 else { throw GyreRenderError(.invalidArgument, "spread radius \(radius) is too large (at most 64)") }
    if radius == 0 { return image }
    let w = image.width, h = image.height
    let mask = circleMask(radius)
    var out = [UInt32](repeating: 0, count: w * h)
    image.pixels.withUnsafeBufferPointer { src in
        src.withMemoryRebound(to: UInt32.self) { p in
            for y in 0..<h {
                for x in 0..<w {
                    let el = UInt32(littleEndian: p[y * w + x])
                    if el >> 24 == 0 { continue }
                    for (dy, dx) in mask {
                        let yy = y + dy, xx = x + dx
                        if yy < 0 || yy >= h || xx < 0 || xx >= w { continue }
                        let dst = out[yy * w + xx]
                        out[yy * w + xx] = dst == 0 ? el : over(el, dst)
                    }
                }
            }
        }
    }
    var px = [UInt8](repeating: 0, count: w * h * 4)
    for i in 0..<(w * h) {
        let v = out[i]
        px[4 * i] = UInt8(v & 0xff)
        px[4 * i + 1] = UInt8((v >> 8) & 0xff)
        px[4 * i + 2] = UInt8((v >> 16) & 0xff)
        px[4 * i + 3] = UInt8(v >> 24)
    }
    return RGBAImage(width: w, height: h, pixels: px)
}

/// datashader's `over` operator on packed RGBA (r in the low byte), in float64.
@inline(__always) func over(_ src: UInt32, _ dst: UInt32) -> UInt32 {
    @inline(__always) func parts(_ v: UInt32) -> (Double, Double, Double, Double) {
        (Double(v & 255) / 255, Double((v >> 8) & 255) / 255, Double((v >> 16) & 255) / 255, Double((v >> 24) & 255) / 255)
    }
    let (sr, sg, sb, sa) = parts(src), (dr, dg, db, da) = parts(dst)
    let factor = 1 - sa
    let a = sa + da * factor
    if a == 0 { return 0 }
    let r = (sr * sa + dr * da * factor) / a
    let g = (sg * sa + dg * da * factor) / a
    let b = (sb * sa + db * da * factor) / a
    @inline(__always) func byte(_ x: Double) -> UInt32 { Swift.min(255, UInt32(Swift.max(0, x * 255))) }
    return byte(a) << 24 | byte(b) << 16 | byte(g) << 8 | byte(r)
}

/// The share of pixels with data that have a neighbour with data within `px` (datashader's
/// `_rgb_density`; infinite for an empty image).
func density(_ image: RGBAImage, _ px: Int) -> Double {
    let w = image.width, h = image.height
    var count = 0, withNeighbours = 0
    for y in 0..<h {
        for x in 0..<w where image.pixels[(y * w + x) * 4 + 3] != 0 {
            count += 1
            var n = 0
            for i in Swift.max(0, y - px)..<Swift.min(y + px + 1, h) {
                for j in Swift.max(0, x - px)..<Swift.min(x + px + 1, w) where image.pixels[(i * w + j) * 4 + 3] != 0 { n += 1 }
            }
            if n > 1 { withNeighbours += 1 }
        }
    }
    return count == 0 ? .infinity : Double(withNeighbours) / Double(count)
}

/// Spreads by the largest radius up to `maxRadius` at which the image stays under
/// `threshold` density (datashader's `tf.dynspread`).
public func dynspread(_ image: RGBAImage, threshold: Double = 0.5, maxRadius: Int = 3) throws -> RGBAImage {
    guard (0...1).contains(threshold) else { throw GyreRenderError(.invalidArgument, "dynspread threshold \(threshold) must be in 0...1") }
    guard (0...64).contains(maxRadius) else { throw GyreRenderError(.invalidArgument, "dynspread max radius \(maxRadius) must be in 0...64") }
    var chosen = 0
    for px in stride(from: 1, through: maxRadius, by: 1) {
        chosen = px
        if density(image, px * 2) > threshold {
            chosen = px - 1
            break
        }
    }
    return chosen >= 1 ? try spread(image, radius: chosen) : image
}
