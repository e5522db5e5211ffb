#include "dnsd/control/metrics.hpp"

#include <array>
#include <chrono>
#include <map>
#include <tuple>

#include "dnsd/control/exposition.hpp"
#include "dnsd/net/counters.hpp"
#include "dnsd/wire/types.hpp"

namespace dnsd::control {

namespace {

constexpr std::array<std::string_view, net::transport_slots> transport_names{"udp", "tcp"};

std::string qtype_name(size_t slot) {
    return slot == net::other_qtype_slot ? "other" : wire::type_name(net::counted_qtypes[slot]);
}

std::string rcode_name(size_t slot) {
    return slot == net::other_rcode_slot ? "other" : wire::rcode_name(static_cast<uint16_t>(slot));
}

double seconds_since_epoch(std::chrono::system_clock::time_point time) {
    return std::chrono::duration<double>(time.time_since_epoch()).count();
}

void build_and_uptime(Exposition& out, const State& state) {
    out.family("dnsd_build_info", MetricType::gauge, "The running dnsd's version.");
    out.sample("dnsd_build_info", {{"version", DNSD_VERSION}}, 1);
    out.family("dnsd_start_time_seconds", MetricType::gauge, "When dnsd started, in seconds since the Unix epoch.");
    out.sample("dnsd_start_time_seconds", {}, seconds_since_epoch(state.started_at()));
    out.family("dnsd_uptime_seconds", MetricType::gauge, "Seconds since dnsd started.");
    out.sample("dnsd_uptime_seconds", {},
               std::chrono::duration<double>(std::chrono::system_clock::now() - state.started_at()).count());
}

void queries(Exposition& out, const net::CounterTotals& totals) {
    out.family("dnsd_received_messages_total", MetricType::counter,
               "DNS messages received, answered or not, by transport.");
    for (size_t t = 0; t < net::transport_slots; ++t)
        out.sample_integer("dnsd_received_messages_total", {{"transport", transport_names[t]}}, totals.queries[t]);

    out.family("dnsd_queries_total", MetricType::counter, "DNS queries answered, by transport, query type and RCODE.");
    for (size_t t = 0; t < net::transport_slots; ++t)
        for (size_t q = 0; q < net::qtype_slots; ++q)
            for (size_t r = 0; r < net::rcode_slots; ++r) {
                const uint64_t value = totals.answers[net::answer_slot(t, q, r)];
                if (value == 0) continue;
                const std::string type = qtype_name(q), rcode = rcode_name(r);
                out.sample_integer("dnsd_queries_total",
                                   {{"transport", transport_names[t]}, {"type", type}, {"rcode", rcode}}, value);
            }

    out.family("dnsd_truncated_total", MetricType::counter, "Answers sent truncated (TC set).");
    out.sample_integer("dnsd_truncated_total", {}, totals.truncated);
    out.family("dnsd_dropped_total", MetricType::counter,
               "DNS messages not answered: not a query, or the answer could not be sent.");
    out.sample_integer("dnsd_dropped_total", {}, totals.dropped);
    out.family("dnsd_tcp_connections_total", MetricType::counter,
               "TCP connections: accepted, refused at the global or the per-client limit, or evicted (the "
               "longest idle, closed to make room at the global limit).");
    out.sample_integer("dnsd_tcp_connections_total", {{"result", "accepted"}}, totals.tcp_accepted);
    out.sample_integer("dnsd_tcp_connections_total", {{"result", "refused"}}, totals.tcp_refused);
    out.sample_integer("dnsd_tcp_connections_total", {{"result", "refused_client_limit"}}, totals.tcp_client_refused);
    out.sample_integer("dnsd_tcp_connections_total", {{"result", "evicted"}}, totals.tcp_evicted);
    out.family("dnsd_tcp_idle_timeouts_total", MetricType::counter,
               "TCP connections closed by the idle timeout or because a message did not arrive whole in time.");
    out.sample_integer("dnsd_tcp_idle_timeouts_total", {}, totals.tcp_idle_closed);
}

void rate_limiting(Exposition& out, const MetricsSources& sources, const net::CounterTotals& totals) {
    const guard::Rrl* rrl = sources.workers.empty() ? nullptr : sources.workers.front()->rrl();
    if (rrl == nullptr) return;
    out.family("dnsd_rrl_responses_total", MetricType::counter,
               "UDP responses over the rate limit: dropped, or sent empty with TC (slipped).");
    out.sample_integer("dnsd_rrl_responses_total", {{"action", "dropped"}}, totals.rrl_dropped);
    out.sample_integer("dnsd_rrl_responses_total", {{"action", "slipped"}}, totals.rrl_slipped);
    out.family("dnsd_rrl_limited_networks", MetricType::gauge, "Client networks being rate limited now.");
    out.sample_integer("dnsd_rrl_limited_networks", {}, rrl->limited_networks());
}

void pool_answers(Exposition& out, const MetricsSources& sources) {
    out.family("dnsd_pool_answers_total", MetricType::counter,
               "Answers from a pool, by zone, pool, the region of the tier that answered (empty: none) and tier.");
    for (const PoolAnswers& row : sum_pool_answers(sources.workers, sources.state.config().regions))
        out.sample_integer("dnsd_pool_answers_total",
                           {{"zone", row.zone}, {"pool", row.pool}, {"region", row.region}, {"tier", row.tier}},
                           row.count);
}

void members(Exposition& out, const health::Status& status) {
    out.family("dnsd_member_up", MetricType::gauge, "Member health from its probes: 1 up, 0 down.");
    for (const auto& zone : status.zones)
        for (const auto& pool : zone.pools)
            for (const auto& member : pool.members)
                out.sample("dnsd_member_up", {{"zone", zone.name}, {"pool", pool.name}, {"member", member.address}},
                           member.up ? 1 : 0);
    out.family("dnsd_member_state", MetricType::gauge,
               "The member's effective state (the runtime override, else the zone file's): 1 for that state.");
    for (const auto& zone : status.zones)
        for (const auto& pool : zone.pools)
            for (const auto& member : pool.members) {
                const auto state = zone::to_string(member.override_state.value_or(member.state));
                out.sample("dnsd_member_state",
                           {{"zone", zone.name}, {"pool", pool.name}, {"member", member.address}, {"state", state}}, 1);
            }
    // One series per member, as above; the counts by source below are the
    // ones to graph for a pool whose members come and go.
    out.family("dnsd_member_source", MetricType::gauge,
               "Where the member came from (zone, registration, dns:NAME): 1 for that source.");
    for (const auto& zone : status.zones)
        for (const auto& pool : zone.pools)
            for (const auto& member : pool.members)
                out.sample("dnsd_member_source",
                           {{"zone", zone.name}, {"pool", pool.name}, {"member", member.address}, {"source", member.source}},
                           1);
    std::map<std::tuple<std::string, std::string, std::string>, std::pair<size_t, size_t>> by_source;  // → members, pending
    for (const auto& zone : status.zones)
        for (const auto& pool : zone.pools)
            for (const auto& member : pool.members) {
                auto& [count, pending] = by_source[{zone.name, pool.name, member.source}];
                ++count;
                pending += member.pending ? 1 : 0;
            }
    out.family("dnsd_pool_members", MetricType::gauge, "Members of the pool, by where they came from.");
    for (const auto& [key, counts] : by_source) {
        const auto& [zone, pool, source] = key;
        out.sample_integer("dnsd_pool_members", {{"zone", zone}, {"pool", pool}, {"source", source}}, counts.first);
    }
    out.family("dnsd_pool_members_pending", MetricType::gauge,
               "Members that joined the pool at run time and wait for their first successful probe.");
    for (const auto& [key, counts] : by_source) {
        const auto& [zone, pool, source] = key;
        out.sample_integer("dnsd_pool_members_pending", {{"zone", zone}, {"pool", pool}, {"source", source}},
                           counts.second);
    }
}

void probes(Exposition& out, const health::Counters& counters) {
    out.family("dnsd_health_transitions_total", MetricType::counter, "Members whose health changed, by new health.");
    out.sample_integer("dnsd_health_transitions_total", {{"to", "up"}}, counters.transitions_up);
    out.sample_integer("dnsd_health_transitions_total", {{"to", "down"}}, counters.transitions_down);

    out.family("dnsd_probes_total", MetricType::counter, "Health probes finished, by check type and result.");
    for (size_t type = 0; type < health::check_type_count; ++type)
        for (size_t outcome = 0; outcome < health::probe_outcome_count; ++outcome) {
            const auto check = zone::to_string(static_cast<zone::Check::Type>(type));
            const auto result = health::outcome_name(static_cast<health::ProbeOutcome>(outcome));
            out.sample_integer("dnsd_probes_total", {{"check", check}, {"result", result}},
                               counters.probes[type][outcome]);
        }

    out.family("dnsd_probe_duration_seconds", MetricType::histogram,
               "Health probe latency by check type; a timed-out probe counts as its timeout.");
    for (size_t type = 0; type < health::check_type_count; ++type) {
        const auto& histogram = counters.latency[type];
        const Label label{"check", zone::to_string(static_cast<zone::Check::Type>(type))};
        out.histogram("dnsd_probe_duration_seconds", {&label, 1}, health::LatencyHistogram::bounds_s,
                      histogram.cumulative, histogram.count, histogram.sum_s);
    }
}

void zones(Exposition& out, const State& state) {
    out.family("dnsd_zone_serial", MetricType::gauge, "The SOA serial of each zone served.");
    for (const auto& zone : state.snapshot()->zones)
        out.sample_integer("dnsd_zone_serial", {{"zone", zone->name}}, zone->serial);
    out.family("dnsd_zone_file_errors", MetricType::gauge,
               "Problems in each zone file's current content; while not 0, its previous version serves.");
    for (const auto& file : state.zone_status())
        out.sample_integer("dnsd_zone_file_errors", {{"file", file.file}}, file.errors.size());
    out.family("dnsd_reloads_total", MetricType::counter, "Reloads since start-up, by result.");
    out.sample_integer("dnsd_reloads_total", {{"result", "ok"}}, state.reload_counters().ok);
    out.sample_integer("dnsd_reloads_total", {{"result", "failed"}}, state.reload_counters().failed);
}

void discovery_metrics(Exposition& out, const discovery::Discovery& discovery) {
    const std::vector<discovery::SourceStatus> sources = discovery.status();
    struct Family {
        std::string_view name;
        MetricType type;
        std::string_view help;
        double (*value)(const discovery::SourceStatus&);
    };
    static constexpr Family families[] = {
        {"dnsd_discovery_members", MetricType::gauge, "Members a members_from source gives its pool now.",
         [](const discovery::SourceStatus& s) { return double(s.members); }},
        {"dnsd_discovery_answer_records", MetricType::gauge, "Records in the source's last answer.",
         [](const discovery::SourceStatus& s) { return double(s.records); }},
        {"dnsd_discovery_ttl_seconds", MetricType::gauge, "The TTL of the source's last answer.",
         [](const discovery::SourceStatus& s) { return double(s.ttl_s); }},
        {"dnsd_discovery_last_refresh_timestamp_seconds", MetricType::gauge,
         "When the source's last lookup ended, in seconds since the Unix epoch; 0 before the first.",
         [](const discovery::SourceStatus& s) { return s.last_refresh ? seconds_since_epoch(*s.last_refresh) : 0.0; }},
        {"dnsd_discovery_failures", MetricType::gauge,
         "Failed lookups of the source in a row (timeout, SERVFAIL, REFUSED): its last good set is kept meanwhile.",
         [](const discovery::SourceStatus& s) { return double(s.failures); }},
        {"dnsd_discovery_refreshes_total", MetricType::counter, "Lookups of the source, by result.", nullptr},
    };
    for (const Family& family : families) {
        out.family(family.name, family.type, family.help);
        for (const auto& s : sources) {
            const std::string type = wire::type_name(s.source.type);
            const std::string label = discovery::source_label(s.source);
            if (family.value) {
                const Label labels[] = {{"zone", s.zone}, {"pool", s.pool}, {"source", label}, {"type", type}};
                out.sample(family.name, labels, family.value(s));
                continue;
            }
            const Label ok[] = {{"zone", s.zone}, {"pool", s.pool}, {"source", label}, {"type", type}, {"result", "ok"}};
            const Label failed[] = {
                {"zone", s.zone}, {"pool", s.pool}, {"source", label}, {"type", type}, {"result", "failed"}};
            out.sample_integer(family.name, ok, s.refreshes - s.failures_total);
            out.sample_integer(family.name, failed, s.failures_total);
        }
    }
}

void fleet_metrics(Exposition& out, const fleet::Fleet& fleet, const health::Status& status) {
    out.family("dnsd_fleet_connected", MetricType::gauge, "1 while this node is connected to the fleet's NATS, else 0.");
    out.sample_integer("dnsd_fleet_connected", {}, fleet.connection() == fleet::Connection::connected ? 1 : 0);
    out.family("dnsd_fleet_nodes", MetricType::gauge,
               "Fleet nodes heard from within stale_after, this one included: the nodes whose verdicts count.");
    out.sample_integer("dnsd_fleet_nodes", {}, fleet.nodes_heard());
    // Each family's samples in one group, as the format requires: the votes
    // are read once, then written family by family.
    struct MemberVotes {
        const std::string& zone;
        const std::string& pool;
        const std::string& member;
        uint32_t down, counted;
    };
    std::vector<MemberVotes> member_votes;
    for (const auto& zone : status.zones)
        for (const auto& pool : zone.pools)
            for (const auto& member : pool.members) {
                if (!member.probed) continue;
                if (const auto votes = fleet.votes(member.target))
                    member_votes.push_back({zone.name, pool.name, member.address, votes->decision.down,
                                            votes->decision.counted});
            }
    out.family("dnsd_fleet_member_down_votes", MetricType::gauge,
               "Counted fleet nodes whose own probes find the member down.");
    for (const MemberVotes& v : member_votes)
        out.sample_integer("dnsd_fleet_member_down_votes", {{"zone", v.zone}, {"pool", v.pool}, {"member", v.member}},
                           v.down);
    out.family("dnsd_fleet_member_votes", MetricType::gauge, "Fleet nodes whose verdict on the member counts.");
    for (const MemberVotes& v : member_votes)
        out.sample_integer("dnsd_fleet_member_votes", {{"zone", v.zone}, {"pool", v.pool}, {"member", v.member}},
                           v.counted);
    const fleet::Counters& counters = fleet.counters();
    out.family("dnsd_fleet_updates_total", MetricType::counter, "Entries received from the fleet, by kind.");
    out.sample_integer("dnsd_fleet_updates_total", {{"kind", "override"}}, counters.overrides);
    out.sample_integer("dnsd_fleet_updates_total", {{"kind", "registration"}}, counters.registrations);
    out.sample_integer("dnsd_fleet_updates_total", {{"kind", "heartbeat"}}, counters.heartbeats);
    out.sample_integer("dnsd_fleet_updates_total", {{"kind", "verdict"}}, counters.verdicts);
    out.sample_integer("dnsd_fleet_updates_total", {{"kind", "zones"}}, counters.zones);
    out.sample_integer("dnsd_fleet_updates_total", {{"kind", "latency"}}, counters.latency);
    out.family("dnsd_fleet_write_failures_total", MetricType::counter, "Writes to the fleet that NATS refused.");
    out.sample_integer("dnsd_fleet_write_failures_total", {}, counters.write_failures);
}

}  // namespace

std::vector<PoolAnswers> sum_pool_answers(std::span<const std::unique_ptr<net::Worker>> workers,
                                          const std::vector<config::Region>& regions) {
    // Summed by name: each worker's table follows the snapshot it answers
    // from, and two workers may be one reload apart.
    using Key = std::tuple<std::string, std::string, int32_t, size_t>;  // zone, pool, region, tier
    std::map<Key, uint64_t> sums;
    for (const auto& worker : workers) {
        const auto table = worker->pool_counters().table();
        if (!table) continue;
        for (size_t z = 0; z < table->zones().size(); ++z) {
            const zone::Zone& zone = *table->zones()[z];
            for (size_t p = 0; p < zone.pools.size(); ++p)
                for (int32_t region = -1; region < static_cast<int32_t>(table->region_count()); ++region)
                    for (size_t t = 0; t < net::tier_slots; ++t)
                        if (uint64_t value = table->get(z, p, region, static_cast<answer::Tier>(t)))
                            sums[{zone.name, zone.pools[p].name, region, t}] += value;
        }
    }
    std::vector<PoolAnswers> rows;
    rows.reserve(sums.size());
    for (const auto& [key, count] : sums) {
        const auto& [zone, pool, region, tier] = key;
        const bool named = region >= 0 && static_cast<size_t>(region) < regions.size();
        rows.push_back({zone, pool, named ? regions[region].name : "", answer::tier_names[tier], count});
    }
    return rows;
}

std::string render_metrics(const MetricsSources& sources) {
    net::CounterTotals totals;
    for (const auto& worker : sources.workers) net::add_to(totals, worker->counters());

    Exposition out;
    build_and_uptime(out, sources.state);
    queries(out, totals);
    rate_limiting(out, sources, totals);
    pool_answers(out, sources);
    const health::Status health = sources.monitor.status();
    members(out, health);
    probes(out, sources.monitor.counters());
    zones(out, sources.state);
    if (sources.discovery != nullptr) discovery_metrics(out, *sources.discovery);
    if (sources.fleet != nullptr) fleet_metrics(out, *sources.fleet, health);
    return out.take();
}

}  // namespace dnsd::control
