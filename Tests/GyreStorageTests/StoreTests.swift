import Foundation
import Testing
@testable import GyreStorage

@Suite("Stores")
struct StoreTests {
    static func exercise(_ store: some WritableStore & ListableStore) async throws {
        #expect(try await store.get("a/b/missing") == nil)
        try await store.set("a/b/c", Array(0..<100))
        try await store.set("a/x", [1, 2, 3])
        try await store.set("z", [])
        #expect(try await store.get("a/b/c") == Array(0..<100))
        #expect(try await store.get("z") == [])
        #expect(try await store.get("a/b/c", range: .range(offset: 10, length: 5)) == [10, 11, 12, 13, 14])
        #expect(try await store.get("a/b/c", range: .from(offset: 97)) == [97, 98, 99])
        #expect(try await store.get("a/b/c", range: .suffix(length: 2)) == [98, 99])
        #expect(try await store.get("a/b/c", range: .suffix(length: 500)) == Array(0..<100))
        // Whole values in reusable blocks: the same bytes, nil where get gives nil (a
        // "directory" key too), one large enough for the large-block cache.
        #expect(try await store.getStored("a/b/c")?.array == Array(0..<100))
        #expect(try await store.getStored("z")?.count == 0)
        #expect(try await store.getStored("a/b/missing") == nil)
        #expect(try await store.getStored("a/b") == nil)
        let big = (0..<(9 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try await store.set("big", big)
        #expect(try await store.getStored("big")?.array == big)
        try await store.delete("big")
        await #expect(throws: GyreStorageError.self) { try await store.get("a/b/c", range: .range(offset: 95, length: 10)) }
        #expect(try await store.list(prefix: "a/") == ["a/b/c", "a/x"])
        #expect(try await store.list(prefix: "") == ["a/b/c", "a/x", "z"])
        try await store.set("a/x", [9])
        #expect(try await store.get("a/x") == [9])
        try await store.delete("a/x")
        try await store.delete("a/x")  // idempotent
        #expect(try await store.get("a/x") == nil)
        for bad in ["", "/abs", "a//b", "a/../b", "./a"] {
            await #expect(throws: GyreStorageError.self) { try await store.get(bad) }
        }
    }

    @Test("MemoryStore: get/set/delete/list and byte ranges")
    func memory() async throws {
        try await Self.exercise(MemoryStore())
    }

    @Test("FileStore: the same, plus atomic writes that leave no partial values")
    func file() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gyre-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = FileStore(root: dir)
        try await Self.exercise(store)
        // A leftover temporary file from a killed writer is neither listed nor read as a value.
        let leftover = dir.appendingPathComponent("a/.y.tmp-deadbeef")
        try Data([1, 2]).write(to: leftover)
        #expect(try await store.list(prefix: "a/") == ["a/b/c"])
        #expect(try await store.get("a/y") == nil)
        // A directory is not a value.
        #expect(try await store.get("a/b") == nil)
        // No temporary files are left after writes.
        try await store.set("big", [UInt8](repeating: 7, count: 1 << 20))
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!names.contains { $0.contains(".tmp-") })
        #expect(try await store.get("big")?.count == 1 << 20)
        // Values of 8 MiB and more take the O_DIRECT path (padded to whole blocks, truncated
        // back): the stored bytes are exactly the value, whatever its length, also when it
        // replaces a longer one.
        for count in [FileStore.directWriteMinBytes + 4096 * 3 + 17, FileStore.directWriteMinBytes] {
            let value = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
            try await store.set("direct/v", value)
            let attrs = try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent("direct/v").path)
            #expect((attrs[.size] as? Int) == count)
            #expect(try await store.get("direct/v") == value)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("direct").path) == ["v"])
    }
}
