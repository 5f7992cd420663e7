import CFreeType
import Foundation
import Synchronization

/// A TrueType font through FreeType, for the text of raster plots: glyphs rendered to 8-bit
/// coverage at a pixel size, cached. One face serves every thread (FreeType's faces are not
/// thread-safe, so calls hold a lock).
public final class Font: Sendable {
    /// The file it was loaded from.
    public let path: String
    private let state: Mutex<State>

    /// One rendered glyph: coverage rows (`width * rows`), where it sits against the pen
    /// (`left` to the right, `top` above the baseline) and how far the pen moves.
    struct Glyph {
        let width: Int, rows: Int, left: Int, top: Int
        let advance: Double
        let coverage: [UInt8]
    }

    private struct State: ~Copyable {
        let library: FT_Library
        let face: FT_Face
        var size = 0
        var glyphs: [GlyphKey: Glyph] = [:]
        deinit {
            FT_Done_Face(face)
            FT_Done_FreeType(library)
        }
    }

    private struct GlyphKey: Hashable { let scalar: UInt32; let size: Int }

    /// Loads the font at `path` (TrueType or OpenType).
    public init(path: String) throws {
        var library: FT_Library?
        guard FT_Init_FreeType(&library) == 0, let library else {
            throw GyreRenderError(.invalidArgument, "FreeType could not start")
        }
        var face: FT_Face?
        let status = FT_New_Face(library, path, 0, &face)
        guard status == 0, let face else {
            FT_Done_FreeType(library)
            throw GyreRenderError(.invalidArgument, "the font '\(path)' could not be read (FreeType error \(status))")
        }
        self.path = path
        state = Mutex(State(library: library, face: face))
    }

    /// Where the default font is looked for: `GYRE_FONT`, then DejaVu Sans as Debian's
    /// fonts-dejavu-core installs it.
    public static var defaultPaths: [String] {
        var paths: [String] = []
        if let p = ProcessInfo.processInfo.environment["GYRE_FONT"], !p.isEmpty { paths.append(p) }
        paths += ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans.ttf"]
        return paths
    }

    private static let loaded: Result<Font, GyreRenderError> = {
        for p in defaultPaths where FileManager.default.fileExists(atPath: p) {
            do { return .success(try Font(path: p)) } catch let e as GyreRenderError { return .failure(e) } catch {
                return .failure(GyreRenderError(.invalidArgument, "\(error)"))
            }
        }
        return .failure(GyreRenderError(.invalidArgument, "no font for the plot's text: none of \(defaultPaths) exists "
                                        + "(install fonts-dejavu-core, or set GYRE_FONT to a .ttf file); SVG output needs no font"))
    }()

    /// The default font (loaded once), or an error that says how to get one.
    public static func standard() throws -> Font { try loaded.get() }

    /// The glyph of `scalar` at `size` pixels (a missing glyph renders as the font's notdef box).
    func glyph(_ scalar: Unicode.Scalar, size: Int) -> Glyph {
        let key = GlyphKey(scalar: scalar.value, size: size)
        return state.withLock { s in
            if let g = s.glyphs[key] { return g }
            if s.size != size {
                FT_Set_Pixel_Sizes(s.face, 0, FT_UInt(size))
                s.size = size
            }
            // Outlines rendered to 8-bit coverage (a font's embedded 1-bit strikes are not used:
            // their rows are packed bits).
            guard FT_Load_Char(s.face, FT_ULong(scalar.value), FT_Int32(FT_LOAD_RENDER | FT_LOAD_NO_BITMAP)) == 0, let slot = s.face.pointee.glyph,
                  slot.pointee.bitmap.pixel_mode == UInt8(FT_PIXEL_MODE_GRAY.rawValue) else {
                let g = Glyph(width: 0, rows: 0, left: 0, top: 0, advance: Double(size) * 0.6, coverage: [])
                s.glyphs[key] = g
                return g
            }
            let bm = slot.pointee.bitmap
            let w = Int(bm.width), rows = Int(bm.rows), pitch = Int(bm.pitch)
            var coverage = [UInt8](repeating: 0, count: w * rows)
            if let buffer = bm.buffer, w > 0, rows > 0 {
                for r in 0..<rows {
                    // A negative pitch stores the rows bottom-up.
                    let src = pitch >= 0 ? buffer + r * pitch : buffer + (rows - 1 - r) * (-pitch)
                    for c in 0..<w { coverage[r * w + c] = src[c] }
                }
            }
            let g = Glyph(width: w, rows: rows, left: Int(slot.pointee.bitmap_left), top: Int(slot.pointee.bitmap_top),
                          advance: Double(slot.pointee.advance.x) / 64, coverage: coverage)
            s.glyphs[key] = g
            return g
        }
    }

    /// The advance width of `text` at `size` pixels.
    public func width(of text: String, size: Int) -> Double {
        text.unicodeScalars.reduce(0) { $0 + glyph($1, size: size).advance }
    }
}
