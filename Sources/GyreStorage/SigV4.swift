import Crypto
import Foundation
import GyreCore

/// AWS credentials: an access key and its secret, and the session token of temporary ones.
/// Their description never shows the secret or the token.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(\(accessKeyID.prefix(4))…)" }
}

/// AWS Signature Version 4 (the "Authorization header" form), as the AWS General Reference
/// specifies it: a canonical request, the string to sign over its SHA-256, and an HMAC-SHA256
/// chain from the secret through the date, region and service.
public enum SigV4 {
    /// The hex SHA-256 of an empty body.
    public static let emptyHash = hex(SHA256.hash(data: [UInt8]()))

    public static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in digest { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func sha256Hex(_ bytes: some ContiguousBytes) -> String {
        bytes.withUnsafeBytes { hex(SHA256.hash(data: $0)) }
    }

    /// RFC 3986 percent-encoding as SigV4 asks: every byte but the unreserved characters
    /// (A-Z a-z 0-9 - _ . ~) as %XX with upper-case hex; '/' kept when `slash` is false.
    public static func encode(_ s: String, encodeSlash: Bool = true) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        out.reserveCapacity(s.utf8.count)
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(c)
            case UInt8(ascii: "/") where !encodeSlash:
                out.append(c)
            default:
                out += [UInt8(ascii: "%"), digits[Int(c >> 4)], digits[Int(c & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The canonical query string of `query` (decoded names and values): each encoded, sorted
    /// by name then value, joined with '&'.
    public static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (encode($0.0), encode($0.1)) }.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public static func amzDate(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// The headers to add to a request so that AWS accepts it: `x-amz-date`,
    /// `x-amz-content-sha256`, `x-amz-security-token` for temporary credentials, and
    /// `Authorization`. `path` is the request's path as sent (already percent-encoded),
    /// `query` its parameters decoded, `headers` those the request sends besides these (`host`
    /// must be among them), all of which are signed.
    public static func sign(method: String, path: String, query: [(String, String)], headers: [(String, String)], payloadHash: String,
                            region: String, service: String, credentials: AWSCredentials, date: Date) -> [(String, String)] {
        let stamp = amzDate(date)
        let day = String(stamp.prefix(8))
        var all = headers.map { ($0.0.lowercased(), $0.1) }
        var added = [("x-amz-date", stamp), ("x-amz-content-sha256", payloadHash)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        all += added
        // Names lower-cased and sorted; values trimmed, inner runs of spaces made one.
        var merged: [String: [String]] = [:]
        for (name, value) in all {
            let trimmed = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            merged[name, default: []].append(trimmed)
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [method, path.isEmpty ? "/" : path, canonicalQuery(query), canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, sha256Hex(Array(canonicalRequest.utf8))].joined(separator: "\n")
        func hmac(_ key: [UInt8], _ text: String) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
        }
        let signingKey = hmac(hmac(hmac(hmac(Array("AWS4\(credentials.secretAccessKey)".utf8), day), region), service), "aws4_request")
        let signature = hex(hmac(signingKey, stringToSign))
        added.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return added
    }
}
