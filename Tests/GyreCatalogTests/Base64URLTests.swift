import Foundation
import GyreCore
import Testing
@testable import GyreCatalog

@Suite("Paging tokens' base64url")
struct Base64URLTests {
    @Test("encodes as Foundation's base64 with the URL alphabet and no padding, and decodes back; refuses other text",
          arguments: [1, 2, 3] as [UInt64])
    func againstFoundation(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for length in 0..<40 {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let want = Data(bytes).base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                let text = Base64URL.encode(bytes)
                #expect(text == want, "seed \(seed): \(bytes)")
                #expect(Base64URL.decode(text) == bytes, "seed \(seed): \(text)")
            }
        }
        for bad in ["a", "abcde", "ab+c", "ab/c", "ab=c", "é", "ab c"] { #expect(Base64URL.decode(bad) == nil, "\(bad)") }
    }
}
