// swift-tools-version: 6.1
// Gyre: the Pangeo stack as one Swift package. Module layers (imports point down only) are
// described in ../shared/ARCHITECTURE.md; this manifest is their source of truth in code.
import PackageDescription

let package = Package(
    name: "Gyre",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Gyre", targets: ["Gyre"]),
        .executable(name: "gyre", targets: ["gyre"]),
        // Gyre's C ABI for Dask workers and Python clients (loaded by the gyre_dask module).
        .library(name: "GyreWorker", type: .dynamic, targets: ["GyreWorker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // Floor 0: inline C helpers for kernels (prefetch hints), header-only.
        .target(name: "CGyreSupport"),
        // The gyre binary's allocator: jemalloc (Debian's libjemalloc-dev), with its settings
        // (allocator.c). glibc's malloc made parsing threads and SQLite's writer contend
        // (100,000 items ingested in 11 s instead of 16).
        .target(name: "CGyreAllocator", linkerSettings: [.linkedLibrary("jemalloc")]),
        // Floor 0: what every module shares: the one JSON type, the error base, the one
        // bounded-concurrency primitive and the queue for blocking calls.
        .target(name: "GyreCore", dependencies: [.product(name: "OrderedCollections", package: "swift-collections")]),
        // Floor 1: the N-d array core (dtypes, strided arrays, kernels, time and calendars).
        .target(name: "GyreArrays", dependencies: ["GyreCore", "CGyreSupport"]),
        // C libraries from Debian (scripts/setup installs the -dev packages).
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", path: "Sources/CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CBlosc", path: "Sources/CBlosc", pkgConfig: "blosc", providers: [.apt(["libblosc-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CFreeType", path: "Sources/CFreeType", pkgConfig: "freetype2", providers: [.apt(["libfreetype-dev"])]),
        .systemLibrary(name: "CNetCDF", path: "Sources/CNetCDF", pkgConfig: "netcdf", providers: [.apt(["libnetcdf-dev"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CProj", path: "Sources/CProj", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        // Floor 1: storage (stores with byte ranges: files, memory, HTTP and S3 over
        // async-http-client, Signature V4 with swift-crypto) and codecs.
        .target(name: "GyreStorage", dependencies: [
            "GyreCore", "CGyreSupport", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .target(name: "GyreCodecs", dependencies: ["GyreCore", "GyreArrays", "CZstd", "CLZ4", "CBlosc", "CZlib", "CDeflate"]),
        // Floor 2: the one chunk engine (a region of any chunked array: split into chunks,
        // located by the format, fetched with merged ranges and bounded concurrency, decoded in place).
        .target(name: "GyreChunks", dependencies: ["GyreCore", "GyreArrays", "GyreStorage", "GyreCodecs"]),
        // Floor 3: formats (Zarr v2 and v3), each a locator for the chunk engine.
        .target(name: "GyreZarr", dependencies: ["GyreCore", "GyreArrays", "GyreStorage", "GyreCodecs", "GyreChunks"]),
        // Floor 2: netCDF-3/4 through netcdf-c, every call serialized on one queue.
        .target(name: "GyreNetCDF", dependencies: ["GyreCore", "GyreArrays", "GyreCodecs", "GyreStorage", "GyreChunks", "CNetCDF", "CHDF5"]),
        // Floor 3, above GyreZarr and GyreNetCDF: kerchunk references (made from netCDF files
        // and Zarr stores, combined along a dimension, read as a Zarr store).
        .target(name: "GyreReferences", dependencies: ["GyreCore", "GyreArrays", "GyreCodecs", "GyreStorage", "GyreNetCDF", "GyreZarr"]),
        // TIFF, GeoTIFF and COG (floor 3, beside GyreZarr and GyreNetCDF): directories read by
        // byte range, tiles and strips located for the chunk engine.
        // Coordinate reference systems through PROJ, affine grids, reprojection (floor 1,
        // beside GyreArrays' kernels: it needs only arrays).
        .target(name: "GyreGeo", dependencies: ["GyreCore", "GyreArrays", "CProj"]),
        .target(name: "GyreTIFF", dependencies: ["GyreCore", "GyreArrays", "GyreStorage", "GyreChunks", "CZstd", "CDeflate"]),
        // Floor 2: STAC models, GeoJSON geometry and predicates, CQL2 (text and JSON) to one AST.
        .target(name: "GyreSTAC", dependencies: ["GyreCore", .product(name: "OrderedCollections", package: "swift-collections")]),
        // Floor 2, above GyreSTAC: catalogs of collections and items (SQLite through GRDB,
        // PostgreSQL/PostGIS through postgres-nio).
        .target(
            name: "GyreCatalog",
            dependencies: [
                "GyreCore", "GyreSTAC", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Floor 3: lazy arrays over chunked sources (the compute engine grows here). It reads any
        // backend through GyreArrays' ChunkedArraySource without importing the backend.
        .target(name: "GyreCompute", dependencies: ["GyreCore", "GyreArrays"]),
        // Floor 4: the labeled model (Variable, DataArray, Dataset, Index, CF conventions, backends).
        .target(
            name: "GyreData",
            dependencies: [
                "GyreCore", "GyreArrays", "GyreStorage", "GyreCodecs", "GyreZarr", "GyreNetCDF", "GyreReferences", "GyreTIFF", "GyreGeo", "GyreCompute",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]),
        // Top floor, beside the CLI: the HTTP server (STAC API over a CatalogBackend).
        .target(
            name: "GyreServer",
            dependencies: [
                "GyreCore", "GyreSTAC", "GyreCatalog", "GyreData", "GyreZarr", "GyreCodecs", "GyreStorage", "GyreCompute", "GyreExpr", "GyreRender",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The umbrella: re-exports the public modules, nothing else.
        .target(name: "GyreExpr", dependencies: ["GyreCore", "GyreArrays", "GyreCompute", "GyreData"]),
        // Beside GyreExpr: datashader-style rendering (canvas, point aggregation, shading,
        // colormaps, spread), PNG files over libdeflate, and quick plots of DataArrays (SVG, or
        // PNG with FreeType text).
        .target(name: "GyreRender", dependencies: ["GyreCore", "GyreArrays", "GyreData", "CDeflate", "CFreeType", "CGyreSupport"]),
        // Beside GyreExpr: task graphs of Gyre programs run on Dask distributed (the planner,
        // the task runner every worker runs, the executor that submits to a scheduler, and the
        // gyre_dask Python module as a resource).
        .target(name: "GyreDistributed", dependencies: ["GyreCore", "GyreArrays", "GyreCompute", "GyreData", "GyreExpr", "GyreStorage", "GyreZarr"],
                resources: [.copy("Python")]),
        // Recipes (ETL into Zarr, resumable) and publishing their results to a catalog,
        // above GyreExpr (transforms are expressions).
        .target(name: "GyreRecipes", dependencies: ["GyreCore", "GyreArrays", "GyreCodecs", "GyreStorage", "GyreZarr", "GyreData", "GyreExpr",
                                                    "GyreSTAC", "GyreCatalog", .product(name: "Yams", package: "Yams")]),
        // The C ABI (libGyreWorker.so): a task, a plan, a finish, called from Python.
        // STAC items to cubes (floor 5, beside GyreExpr): stack, mosaics.
        .target(name: "GyreCube", dependencies: ["GyreCore", "GyreArrays", "GyreCompute", "GyreData", "GyreGeo", "GyreSTAC", "GyreStorage", "GyreTIFF", "GyreRender", .product(name: "NIOHTTP1", package: "swift-nio"),
                                                 .product(name: "OrderedCollections", package: "swift-collections")]),
        .target(name: "GyreWorker", dependencies: ["GyreDistributed", "GyreArrays", "GyreCompute", "GyreData", "GyreZarr"]),
        .target(name: "Gyre", dependencies: ["GyreCore", "GyreArrays", "GyreCompute", "GyreData", "GyreExpr", "GyreRender", "GyreDistributed", "GyreNetCDF", "GyreReferences", "GyreTIFF", "GyreGeo", "GyreCube", "GyreRecipes", "GyreStorage", "GyreCodecs", "GyreChunks", "GyreZarr", "GyreSTAC", "GyreCatalog"]),
        // The CLI.
        .executableTarget(
            name: "gyre",
            dependencies: [
                "Gyre", "GyreServer", "GyreRender", "CGyreAllocator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]),
        // Side-by-side benchmarks against the Python peers (driven by Benchmarks/run).
        .executableTarget(
            name: "gyre-bench",
            dependencies: ["Gyre"],
            path: "Benchmarks/GyreBench"),
        .testTarget(name: "GyreCoreTests", dependencies: ["GyreCore"]),
        .testTarget(name: "GyreArraysTests", dependencies: ["GyreCore", "GyreArrays"]),
        .testTarget(name: "GyreExprTests", dependencies: ["GyreExpr", "GyreData", "GyreArrays", "GyreCompute"]),
        .testTarget(name: "GyreSTACTests", dependencies: ["GyreCore", "GyreSTAC"]),
        .testTarget(
            name: "GyreCatalogTests",
            dependencies: ["GyreCore", 
                "GyreCatalog", "GyreSTAC",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(
            name: "GyreServerTests",
            dependencies: ["GyreCore", 
                "GyreServer", "GyreCatalog", "GyreSTAC", "GyreData", "GyreZarr", "GyreStorage", "GyreExpr", "GyreCodecs", "GyreRender",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "GyreDataTests", dependencies: ["GyreCore", "GyreData", "GyreArrays", "GyreCompute", "GyreStorage", "GyreZarr"]),
        .testTarget(name: "GyreComputeTests", dependencies: ["GyreCompute", "GyreArrays"]),
        .testTarget(name: "GyreDistributedTests", dependencies: ["GyreDistributed", "GyreCompute", "GyreData", "GyreExpr", "GyreArrays", "GyreZarr", "GyreStorage", "GyreTestSupport"]),
        .testTarget(name: "GyreRenderTests", dependencies: ["GyreCore", "GyreRender", "GyreArrays", "GyreData", "CDeflate"]),
        .testTarget(name: "GyreRecipesTests", dependencies: ["GyreRecipes", "GyreReferences", "GyreData", "GyreStorage", "GyreArrays", "GyreTestSupport"]),
        .testTarget(name: "GyreReferencesTests", dependencies: ["GyreReferences", "GyreNetCDF", "GyreZarr", "GyreStorage", "GyreArrays", "GyreData"]),
        .testTarget(name: "GyreTIFFTests", dependencies: ["GyreTIFF", "GyreArrays", "GyreStorage"]),
        .testTarget(name: "GyreGeoTests", dependencies: ["GyreGeo", "GyreArrays"]),
        .testTarget(name: "GyreNetCDFTests", dependencies: ["GyreNetCDF", "GyreArrays", "GyreStorage"]),
        // What the test targets share: the real servers they start (moto's S3, nginx).
        .target(name: "GyreTestSupport", path: "Tests/Support", exclude: ["fault_proxy.py"]),
        .testTarget(name: "GyreStorageTests", dependencies: ["GyreStorage", "GyreTestSupport"]),
        .testTarget(name: "GyreCodecsTests", dependencies: ["GyreCore", "GyreCodecs", "GyreArrays"]),
        .testTarget(name: "GyreZarrTests", dependencies: ["GyreCore", "GyreChunks", "GyreZarr", "GyreStorage", "GyreCodecs", "GyreArrays"]),
        // Interop: Python peers (NumPy, xarray, netCDF4, cftime) write fixtures, Swift compares.
        .testTarget(
            name: "GyreInteropTests",
            dependencies: ["Gyre", "GyreRender", "GyreTestSupport"],
            path: "Tests/Interop",
            exclude: ["numpy_cases.py", "cf_cases.py", "codec_cases.py", "zarr_cases.py", "xarray_zarr_cases.py", "netcdf_cases.py",
                      "compute_cases.py", "netcdf_native_cases.py", "repr_cases.py", "stac_api_check.py", "stac_client_check.py", "s3_cases.py",
                      "dataset_server_cases.py", "covjson_validate.py", "render_cases.py", "explorer_check.py", "refs_cases.py", "recipe_cases.py", "tiff_cases.py", "warp_cases.py", "cube_cases.py", "cog_check.py"]),
    ]
)
