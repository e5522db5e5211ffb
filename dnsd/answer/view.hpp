#pragma once
// Everything a worker needs to answer a query, published as one immutable value
// so that each query sees one consistent version of zones, health and options.
#include <cstdint>
#include <memory>
#include <string>

#include "dnsd/geo/geo.hpp"
#include "dnsd/health/view.hpp"
#include "dnsd/latency/routes.hpp"
#include "dnsd/zone/snapshot.hpp"

namespace dnsd::answer {

struct Options {
    uint16_t udp_payload = 1232;  // advertised in our OPT; also our UDP answer cap with EDNS
    std::string nsid;             // empty: no NSID
    bool ecs = true;              // use the client subnet option for geo
};

struct View {
    std::shared_ptr<const zone::Snapshot> snapshot;
    std::shared_ptr<const health::HealthView> health;
    // Client address → region order and ECS scope; null: no region places any
    // client, so pools answer as if their members named no region.
    std::shared_ptr<const geo::Geo> geo;
    // Measured client networks → region order by RTT, for pools with routing
    // "latency"; null: none measured, so those pools answer by geo.
    std::shared_ptr<const latency::Routes> latency;
    Options options;
};

}  // namespace dnsd::answer
