import GyreArrays
import GyreCore
import GyreData
import Hummingbird

/// OGC API - Environmental Data Retrieval 1.1 at `/edr/`: every served dataset with longitude
/// and latitude axes is a collection, queried by `position` (points), `area` (polygons) and
/// `cube` (a bbox), each with `datetime`, `z` and `parameter-name`, answered as CoverageJSON,
/// CSV or netCDF.
extension STACService {
    static let edrConformance = [
        "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
        "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/core",
        "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/collections",
        "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/json",
        "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/covjson",
        "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-edr-1/1.1/conf/queries",
    ]
    static let coverageJSONType = "application/prs.coverage+json"
    static let edrFormats: [String] = ["CoverageJSON", "CSV", "NetCDF"]

    func addEDRRoutes(to router: Router<GyreRequestContext>) {
        router.get("/edr") { request, _ in
            Self.respondJSON([
                "title": "Gyre OGC API - Environmental Data Retrieval",
                "description": "The datasets this server serves, queried by position, area and cube",
                "links": .array([
                    self.link("self", "/edr", title: "This document"),
                    self.link("service-desc", "/api", "application/vnd.oai.openapi+json;version=3.0", title: "The API definition"),
                    self.link("service-doc", "/api.html", "text/html", title: "The API documentation"),
                    self.link("conformance", "/edr/conformance", title: "Conformance classes"),
                    self.link("data", "/edr/collections", title: "The collections"),
                ]),
            ], request)
        }
        router.get("/edr/conformance") { request, _ in
            Self.respondJSON(["conformsTo": .array(Self.edrConformance.map { .string($0) })], request)
        }
        router.get("/edr/collections") { request, _ in
            let cs = self.datasets.all.compactMap { d in (try? d.edrGrid.get()).map { self.edrCollection(d, $0) } }
            return Self.respondJSON(["links": .array([self.link("self", "/edr/collections"), self.link("root", "/edr")]),
                                     "collections": .array(cs)], request)
        }
        router.get("/edr/collections/{name}") { request, context in
            let d = try self.requireDataset(context)
            return Self.respondJSON(self.edrCollection(d, try d.edrGrid.get()), request)
        }
        for kind in [EDRQuery.Kind.position, .area, .cube] {
            router.get("/edr/collections/{name}/\(kind.rawValue)") { request, context in
                let d = try self.requireDataset(context)
                try self.authorizeData(request, collection: d.name)
                let grid = try d.edrGrid.get()
                let q = try EDRQuery(kind, query: try QueryString(request.uri.query))
                return try await self.edrAnswer(d, grid, q, request)
            }
        }
    }

    func edrAnswer(_ d: ServedDataset, _ grid: EDRGrid, _ q: EDRQuery, _ request: Request) async throws -> Response {
        let selection: EDRSelection
        do { selection = try grid.select(q, from: d.dataset, name: d.name) } catch let e as GyreServerError where e.code == .noData {
            return Response(status: .noContent, headers: [.accessControlAllowOrigin: "*"])
        }
        var parts: [Dataset] = []
        for p in selection.parts {
            parts.append(try await d.load(p, what: "the \(q.kind) query", limits: datasets.limits).0)
        }
        switch q.format {
        case .coverageJSON:
            var r = Self.respondJSON(try grid.coverageJSON(parts, kind: q.kind, inside: selection.inside), request)
            r.headers[.contentType] = Self.coverageJSONType
            r.headers[.accessControlAllowOrigin] = "*"
            return r
        case .csv:
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .accessControlAllowOrigin: "*",
                                                   .contentDisposition: "attachment; filename=\"\(d.name)-\(q.kind).csv\""],
                            body: .init(byteBuffer: ByteBuffer(bytes: try grid.csv(parts, inside: selection.inside))))
        case .netCDF:
            guard parts.count == 1 else {
                throw GyreServerError(.badRequest, "f=NetCDF answers one point at a time; ask CoverageJSON or CSV for a MULTIPOINT")
            }
            var part = parts[0]
            if let inside = selection.inside {
                let mask = try DataArray(.bool(try NDArray(shape: [part.sizes[grid.y]!, part.sizes[grid.x]!], inside)), dims: [grid.y, grid.x])
                part = try part.where(mask)
            }
            return try await Self.netCDF(part, name: "\(d.name)-\(q.kind).nc")
        }
    }

    /// An EDR collection document for a dataset: extent, parameters and the three queries.
    func edrCollection(_ d: ServedDataset, _ grid: EDRGrid) -> JSON {
        let base = "/edr/collections/\(d.name)"
        let heightUnits: JSON = .array(grid.z.flatMap { d.dataset.variables[$0]?.attrs["units"]?.stringValue }.map { [.string($0)] } ?? [])
        func query(_ kind: EDRQuery.Kind, _ title: String, _ template: String) -> JSON {
            var variables: JSONObject = ["title": .string(title), "query_type": .string(kind.rawValue),
                                         "output_formats": .array(Self.edrFormats.map { .string($0) }), "default_output_format": "CoverageJSON",
                                         "crs_details": [["crs": "CRS84", "wkt": .string(Self.crs84WKT)]]]
            if kind == .cube { variables["height_units"] = heightUnits }
            return ["link": ["href": .string(baseURL + base + "/\(kind.rawValue)" + template), "rel": "data", "templated": true,
                             "type": .string(Self.coverageJSONType), "title": .string(title), "variables": .object(variables)]]
        }
        var extent: JSONObject = ["spatial": ["bbox": .array([.array(grid.bbox.map { .double($0) })]), "crs": .string(EDRGrid.crs84)]]
        let ds = d.dataset
        if let t = grid.t, let values = try? EDRGrid.axisValues(ds.variables[t]!), let first = values.first, let last = values.last {
            extent["temporal"] = ["interval": .array([.array([first, last])]), "trs": .string(Self.gregorianTRS)]
        }
        if let z = grid.z, let zs = try? ds.variables[z]!.data.doubles(), let lo = zs.min(), let hi = zs.max() {
            extent["vertical"] = ["interval": .array([.array([.string(String(lo)), .string(String(hi))])]), "values": .array(zs.map { .string(String($0)) }),
                                  "vrs": .string("VERTCS[\"\(z)\",VDATUM[\"unknown\"],UNIT[\"\(ds.variables[z]!.attrs["units"]?.stringValue ?? "unknown")\",1]]")]
        }
        var parameters: JSONObject = [:]
        for p in grid.parameters { parameters[p] = grid.parameterJSON(ds.variables[p]!, name: p, edr: true) }
        return ["id": .string(d.name), "title": .string(ds.attrs["title"]?.stringValue ?? d.name),
                "description": .string(d.description.isEmpty ? (ds.attrs["summary"]?.stringValue ?? d.name) : d.description),
                "links": .array([self.link("self", base),
                                  self.link("data", base + "/position", Self.coverageJSONType, title: "Position query"),
                                  self.link("data", base + "/area", Self.coverageJSONType, title: "Area query"),
                                  self.link("data", base + "/cube", Self.coverageJSONType, title: "Cube query"),
                                  self.link("alternate", "/datasets/\(d.name)/zarr/", "application/vnd+zarr", title: "The dataset as a Zarr store")]),
                "extent": .object(extent),
                "data_queries": ["position": query(.position, "Position query", "?coords={coords}"),
                                 "area": query(.area, "Area query", "?coords={coords}"),
                                 "cube": query(.cube, "Cube query", "?bbox={bbox}")],
                "crs": ["CRS84"], "output_formats": .array(Self.edrFormats.map { .string($0) }),
                "parameter_names": .object(parameters)]
    }

    static let crs84WKT = "GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,298.257223563]],PRIMEM[\"Greenwich\",0],"
        + "UNIT[\"degree\",0.0174532925199433],AXIS[\"Longitude\",EAST],AXIS[\"Latitude\",NORTH]]"
    static let gregorianTRS = "TIMECRS[\"DateTime\",TDATUM[\"Gregorian Calendar\"],CS[TemporalDateTime,1],AXIS[\"Time (T)\",future]]"
}
