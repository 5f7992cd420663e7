@_exported import GyreCore

/// The error type of `GyreCatalog`: a code, a message naming the catalog, collection or item at fault, and
/// an optional cause.
public typealias GyreCatalogError = GyreError<CatalogDomain>

/// The domain of `GyreCatalogError`.
public enum CatalogDomain: Sendable {}

extension GyreError.Code where Domain == CatalogDomain {
    /// A request that cannot be answered as asked (a bad parameter, an unknown property).
    public static var badRequest: Self { Self("bad request") }
    /// A collection or item that does not exist.
    public static var notFound: Self { Self("not found") }
    /// A write that conflicts with what is stored (an item whose collection is missing).
    public static var conflict: Self { Self("conflict") }
    /// The database failed.
    public static var database: Self { Self("database error") }
    /// Reading files to ingest.
    public static var io: Self { Self("I/O error") }
}
