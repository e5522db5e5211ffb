#pragma once
// This node's part in a fleet (SPEC §13), on the control loop. Through the
// Link (NATS, on its own thread) it shares runtime overrides and
// registrations, publishes its
// heartbeat and its own verdict on every target it probes, and hears the
// other nodes'. From those it decides each target's health by the quorum
// rule and hands the result to the health::Monitor, which publishes the
// View the workers answer from: workers never see NATS. With
// `"zones": "shared"` it also writes the zones pushed to the fleet into the
// state directory and has them reloaded. It carries the latency measurements'
// records both ways; control/latency.hpp reads and merges them.
//
// Cut off from NATS, the node keeps answering: it falls back to its own
// verdicts, keeps the last shared overrides, registrations and zones, says so in its log,
// status and metrics, and catches up once the Link reconnects.
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "dnsd/config/config.hpp"
#include "dnsd/fleet/link.hpp"
#include "dnsd/fleet/quorum.hpp"
#include "dnsd/fleet/records.hpp"
#include "dnsd/health/monitor.hpp"

namespace dnsd::fleet {

enum class Connection : uint8_t { connecting, connected, isolated };
std::string_view to_string(Connection connection);

// A node as this one last heard of it.
struct NodeStatus {
    std::string node;
    bool self = false;
    std::optional<Heartbeat> heartbeat;  // none: nothing heard yet but votes
    std::optional<std::chrono::system_clock::time_point> last_heard;
    bool stale = false;  // not heard from within stale_after: its votes do not count
    bool drift = false;  // serves an older serial of a zone than another node, or lacks it
};

struct Status {
    std::string node;
    Connection connection = Connection::connecting;
    std::string problem;  // why not connected; empty when connected
    std::optional<uint64_t> zones_revision;  // shared zones served; none: local zones, or none received
    std::vector<NodeStatus> nodes;            // this node first, then by name
    bool drift = false;
};

// Every counted node's verdict on one target, and what the quorum made of them.
struct TargetVotes {
    std::vector<std::pair<std::string, bool>> votes;  // node → up, this node first
    Decision decision;
};

struct Counters {
    // Entries received from the fleet, by kind.
    uint64_t overrides = 0, registrations = 0, heartbeats = 0, verdicts = 0, zones = 0, latency = 0;
    uint64_t write_failures = 0;
};

// A renewal that moves a lease's end from `held` (the end the fleet holds)
// to `renewed` is written only when this says so (see fleet.cpp for why).
bool renewal_worth_writing(std::chrono::system_clock::time_point held, std::chrono::system_clock::time_point renewed,
                           std::chrono::seconds lease);

// This node's registrations (control::Registrations behind them).
struct RegistrationHooks {
    std::function<std::vector<Registration>()> list;
    // From the fleet: `held` as the fleet holds them (new, changed, their end
    // moved, or ended), `deleted` deleted on some node.
    std::function<void(std::vector<Registration> held, std::vector<Registration> deleted)> apply;
};

struct Hooks {
    health::Monitor& monitor;
    // The overrides in force changed through the fleet: keep them (state_dir).
    std::function<void(const std::vector<health::Override>&)> overrides_changed;
    // What this node serves, for its heartbeat (zones, serials, zone errors).
    std::function<Heartbeat()> report;
    // New shared zones are in the cache directory: reload them.
    std::function<void()> reload_zones;
    RegistrationHooks registrations;
};

class Fleet {
public:
    // `zone_cache`: the shared zones directory (zone_cache.hpp); empty with
    // `"zones": "local"`. Connects at once, in the background.
    Fleet(uv_loop_t* loop, const config::Fleet& settings, std::filesystem::path zone_cache, Hooks hooks);
    Fleet(const Fleet&) = delete;
    Fleet& operator=(const Fleet&) = delete;
    ~Fleet();

    // An override set on this node (already in force in the Monitor): the
    // fleet gets it, once connected. `automatic` ends it everywhere.
    void share_override(const health::Override& entry);
    // A registration added, changed or renewed for `lease` on this node (in
    // force here already): the fleet gets it, a renewal only when
    // renewal_worth_writing says so.
    void share_registration(const Registration& entry, std::chrono::seconds lease);
    // A registration deleted on this node: every node ends it.
    void share_deregistration(const Registration& entry);

    // Latency measurements (latency_records.hpp). `received` gets the
    // entries of the dnsd_latency bucket, this node's own included: all of
    // them (`snapshot`) after each (re)connect, then the changes.
    using LatencyEntries = std::function<void(const std::vector<Entry>& entries, bool snapshot)>;
    void on_latency(LatencyEntries received);
    // Stores these (key, value) pairs in dnsd_latency, once connected. A key
    // given again before it went out goes out once, with its last value.
    void share_latency(std::vector<std::pair<std::string, std::string>> records);

    Status status() const;
    // The votes on `target` (a status target name); none for a target no node votes on.
    std::optional<TargetVotes> votes(std::string_view target) const;
    Connection connection() const { return connection_; }
    // Nodes heard from within stale_after, this one included.
    size_t nodes_heard() const;
    const Counters& counters() const { return counters_; }

    // Stops the Link and the timer (MainLoop::on_stop).
    void close();

private:
    struct Node {
        std::optional<Heartbeat> heartbeat;
        Clock::time_point heard{};  // of the heartbeat, backdated by its age
        std::optional<std::chrono::system_clock::time_point> heard_wall;
        std::map<std::string, bool> votes;  // target → up
    };
    struct SharedOverride {
        uint64_t revision = 0;
        health::Override entry;
    };
    struct PendingOverride {
        health::Override entry;  // state automatic: a removal
        bool written = false;
        uint64_t revision = 0;  // the revision NATS gave it, once written (0 for a removal)
    };

    void on_events(std::vector<Event> events);
    void on_state(const Event& event);
    void on_health(const Event& event);
    void on_zones(const Event& event);
    void on_registrations(const Event& event);
    void write_registration(const std::string& key, Registration entry);
    void on_written(const Event& event);
    void on_latency_written(size_t writes);
    void send_latency();
    void apply_overrides();
    void on_verdicts_changed();
    void share_verdicts();
    void decide_all();
    Heartbeat own_heartbeat() const;  // what this node serves, as its heartbeat says it
    void send_heartbeat();
    bool fresh(const Node& node, Clock::time_point now) const;
    static void on_tick(uv_timer_t* timer);

    const config::Fleet settings_;
    const std::filesystem::path zone_cache_;
    Hooks hooks_;
    const Clock::duration stale_after_;
    const std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();

    Connection connection_ = Connection::connecting;
    std::string problem_;
    std::map<std::string, Node> nodes_;  // other nodes, by name
    // Every health key heard of → its node and target (empty for a heartbeat),
    // for deletions, which carry no value.
    std::map<std::string, std::pair<std::string, std::string>> health_keys_;
    std::map<std::string, bool> own_;           // this node's verdicts, by target
    std::map<std::string, bool> shared_votes_;  // this node's verdicts as the fleet holds them
    std::map<std::string, SharedOverride> overrides_;  // by key
    std::map<std::string, PendingOverride> pending_;   // by key: set here, not yet seen back
    bool overrides_synced_ = false;
    // Registrations as the fleet holds them, by key (those ended by their
    // lease included: NATS keeps them until a newer write or a delete).
    std::map<std::string, Registration> registrations_;
    struct PendingRegistration {
        std::optional<Registration> entry;  // none: a delete
        bool written = false;
        uint64_t revision = 0;
    };
    // Written here and not yet seen back, by key: this node's copy wins until then.
    std::map<std::string, PendingRegistration> pending_registrations_;
    std::optional<uint64_t> zones_revision_;
    std::map<std::string, bool> fleet_up_;  // the last verdicts handed to the Monitor
    Counters counters_;
    Clock::time_point next_heartbeat_{};
    LatencyEntries latency_received_;
    // Latency records not handed to the Link yet, by key. They go in batches,
    // the next once the last is written, so that however many networks
    // change, the Link's queue (searched on every write) stays short and a
    // record is encoded once however often its network changes meanwhile.
    std::unordered_map<std::string, std::string> latency_unsent_;
    size_t latency_in_flight_ = 0;  // handed to the Link, not yet written or refused

    uv_timer_t* tick_ = nullptr;  // freed by its close callback
    std::unique_ptr<Link> link_;
};

}  // namespace dnsd::fleet
