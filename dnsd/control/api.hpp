#pragma once
// The HTTP endpoint's resources (SPEC §8): the status page, metrics, status,
// explain, reload, member overrides, registrations and latency beacons, behind
// an optional bearer token for the calls that change something (POST, PUT,
// DELETE). Lives on the control loop.
#include <memory>
#include <span>
#include <string>

#include "dnsd/control/http.hpp"
#include "dnsd/control/latency.hpp"
#include "dnsd/control/registrations.hpp"
#include "dnsd/control/reload.hpp"
#include "dnsd/control/router.hpp"
#include "dnsd/control/state.hpp"
#include "dnsd/control/state_store.hpp"
#include "dnsd/discovery/discovery.hpp"
#include "dnsd/fleet/fleet.hpp"
#include "dnsd/health/monitor.hpp"
#include "dnsd/net/worker.hpp"

namespace dnsd::control {

struct ApiSources {
    State& state;
    std::span<const std::unique_ptr<net::Worker>> workers;
    health::Monitor& monitor;
    Reloader& reloader;
    const StateStore& store;  // where overrides are kept across restarts
    Registrations& registrations;
    fleet::Fleet* fleet = nullptr;  // null: a node alone
    LatencyFeed* latency = nullptr;  // where POST /v1/latency's beacons go
    const discovery::Discovery* discovery = nullptr;
};

class Api {
public:
    explicit Api(ApiSources sources);
    Api(const Api&) = delete;
    Api& operator=(const Api&) = delete;

    void handle(http::Request& request, http::Respond respond) const { router_.handle(request, std::move(respond)); }

private:
    // Wraps a handler that changes something: with a token configured, the
    // request must carry it (`Authorization: Bearer TOKEN`), else 401.
    http::RouteHandler mutating(http::RouteHandler handler) const;

    void metrics(http::Respond& respond) const;
    void status(http::Respond& respond) const;
    void fleet(http::Respond& respond) const;
    void explain(const http::Request& request, http::Respond& respond) const;
    void reload(http::Respond respond) const;
    void member(const http::Params& captures, http::Respond& respond) const;
    void set_override(const http::Request& request, const http::Params& captures, http::Respond& respond) const;
    void put_registration(const http::Request& request, const http::Params& captures, http::Respond& respond) const;
    void delete_registration(const http::Params& captures, http::Respond& respond) const;
    void add_beacons(const http::Request& request, http::Respond& respond) const;

    ApiSources sources_;
    http::Router router_;
};

}  // namespace dnsd::control
