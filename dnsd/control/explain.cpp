#include "dnsd/control/explain.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <sstream>

#include "dnsd/answer/respond.hpp"
#include "dnsd/answer/trace.hpp"
#include "dnsd/control/state.hpp"
#include "dnsd/control/status.hpp"
#include "dnsd/core/log.hpp"
#include "dnsd/wire/name.hpp"
#include "dnsd/wire/types.hpp"
#include "dnsd/zone/load.hpp"
#include "dnsd/zone/name.hpp"

namespace dnsd::control {

namespace {

namespace rrtype = zone::rrtype;
using nlohmann::json;

using wire::rcode_name;
using wire::type_name;

std::string network(const core::Address& address, unsigned prefix) {
    return address.masked(prefix).to_string() + "/" + std::to_string(prefix);
}

// `rdata` as written by the zone module: names uncompressed, so read in order.
class RdataText {
public:
    explicit RdataText(std::span<const uint8_t> rdata) : rdata_(rdata) {}

    bool done() const { return at_ == rdata_.size(); }
    std::string number(size_t octets) {
        uint64_t value = 0;
        for (size_t i = 0; i < octets && at_ < rdata_.size(); ++i) value = value << 8 | rdata_[at_++];
        return std::to_string(value);
    }
    std::string name() {
        const size_t size = wire::name_size(rdata_.subspan(std::min(at_, rdata_.size())));
        const std::string text = zone::to_text(wire::as_view(rdata_.subspan(at_, size)));
        at_ += size;
        return text;
    }
    // A <character-string> (RFC 1035 §3.3) in double quotes, `"` and `\` escaped.
    std::string string(size_t size) {
        std::string out = "\"";
        for (size_t end = std::min(at_ + size, rdata_.size()); at_ < end; ++at_) {
            const char c = static_cast<char>(rdata_[at_]);
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        return out + "\"";
    }
    std::string counted_string() { return at_ < rdata_.size() ? string(rdata_[at_++]) : std::string(); }

private:
    std::span<const uint8_t> rdata_;
    size_t at_ = 0;
};

// RDATA in presentation form; RFC 3597's generic form for other types.
std::string rdata_text(uint16_t type, std::span<const uint8_t> rdata) {
    if ((type == rrtype::A && rdata.size() == 4) || (type == rrtype::AAAA && rdata.size() == 16)) {
        core::Address address;
        address.family = type == rrtype::A ? core::Family::v4 : core::Family::v6;
        std::copy(rdata.begin(), rdata.end(), address.bytes.begin());
        return address.to_string();
    }
    // Fields are read one statement at a time: the operands of + are not sequenced.
    RdataText in(rdata);
    std::vector<std::string> fields;
    auto numbers = [&](size_t count, size_t octets) {
        for (size_t i = 0; i < count; ++i) fields.push_back(in.number(octets));
    };
    switch (type) {
        case rrtype::CNAME:
        case rrtype::NS:
        case rrtype::PTR: fields.push_back(in.name()); break;
        case rrtype::MX:
            numbers(1, 2);
            fields.push_back(in.name());
            break;
        case rrtype::SRV:
            numbers(3, 2);
            fields.push_back(in.name());
            break;
        case rrtype::SOA:
            fields.push_back(in.name());
            fields.push_back(in.name());
            numbers(5, 4);
            break;
        case rrtype::TXT:
            while (!in.done()) fields.push_back(in.counted_string());
            break;
        case rrtype::CAA: {
            numbers(1, 1);
            const std::string tag = in.counted_string();
            fields.push_back(tag.substr(1, tag.size() - 2));
            fields.push_back(in.string(rdata.size()));
            break;
        }
        default: break;
    }
    if (!fields.empty()) {
        std::string out = fields.front();
        for (size_t i = 1; i < fields.size(); ++i) out += " " + fields[i];
        return out;
    }
    std::string out = "\\# " + std::to_string(rdata.size()) + " ";
    for (uint8_t byte : rdata) {
        std::array<char, 3> hex{};
        std::snprintf(hex.data(), hex.size(), "%02x", byte);
        out += hex.data();
    }
    return out;
}

std::string record(std::string_view owner, uint32_t ttl, uint16_t type, std::string_view rdata) {
    return std::string(owner) + " " + std::to_string(ttl) + " IN " + type_name(type) + " " + std::string(rdata);
}

// How geo ordered the regions (geo::Regions::order), in words.
std::string order_rule(const geo::Geo& geo, const geo::Explanation& placed) {
    const auto& regions = geo.regions().regions();
    const int32_t region = placed.resolution.region;
    const config::Region* own = region >= 0 ? &regions[static_cast<size_t>(region)] : nullptr;
    const std::string first = own ? own->name + ", then " : "no region: ";
    const std::string others = own ? "the others" : "every region";
    if (own && !own->fallback.empty()) return first + "its fallback list; the others are in no tier";
    const auto located = std::count_if(regions.begin(), regions.end(),
                                       [](const config::Region& r) { return r.location.has_value(); });
    const bool others_located = located > (own && own->location ? 1 : 0);
    if (others_located && placed.lookup.place.location) return first + others + " by distance from the client";
    if (others_located && own && own->location) return first + others + " by distance from " + own->name;
    return first + others + " in config order";
}

std::string text_of(std::string_view wire_name) { return zone::to_text(wire_name); }

// The member table, the tiers and their outcome for the pool that answered.
ExplainPool pool_report(const ExplainReport& report, const answer::Trace::Pool& traced, const ExplainOptions& options) {
    const zone::Pool& pool = traced.zone->pools[static_cast<size_t>(traced.node->pool)];
    const answer::PoolChoice& choice = traced.choice;
    const answer::SelectInput& input = choice.input;
    const answer::Selection& selection = choice.selection;

    ExplainPool out;
    out.name = pool.name;
    out.type = traced.family == core::Family::v4 ? "A" : "AAAA";
    out.policy = pool.policy;
    out.max_answers = pool.max_answers;
    out.name_ttl = traced.node->pool_ttl;
    out.degraded_ttl = pool.degraded_ttl;
    out.uses_geo = pool.uses_geo;
    out.tier = selection.tier;
    out.ttl = choice.ttl;
    out.geo_scope_prefix = choice.placement.scope_prefix;
    out.scope_prefix = choice.scope_prefix;

    const auto order = input.region_order;
    if (order.empty()) out.tiers.push_back(ExplainTier{});
    for (const int32_t region : order) out.tiers.push_back(ExplainTier{report.region_names[static_cast<size_t>(region)]});
    if (selection.tier != answer::Tier::fail_open) {
        const auto at = std::find(order.begin(), order.end(), selection.region);
        out.answered_tier = order.empty() ? 0 : static_cast<size_t>(at - order.begin());
    }
    for (const uint32_t m : traced.family == core::Family::v4 ? pool.v4 : pool.v6) {
        const zone::Member& member = pool.members[m];
        ExplainMember shown;
        shown.address = member.address;
        if (member.region >= 0) shown.region = report.region_names[static_cast<size_t>(member.region)];
        shown.state = answer::state_of(input, m);
        shown.overridden = shown.state != member.state;
        if (member.source < traced.zone->sources.size()) shown.source = traced.zone->sources[member.source];
        if (member.health_slot != UINT32_MAX) {
            shown.health = input.health == nullptr || input.health->is_up(member.health_slot);
            shown.pending = input.health != nullptr && input.health->is_unproven(member.health_slot);
            shown.target = health::target_name(traced.zone->probe_targets[member.health_slot]);
            if (options.votes) shown.votes = options.votes(shown.target);
        }
        shown.eligible = answer::eligible(input, m);
        const uint64_t tier = answer::tier_of(member, order);
        if (order.empty() || tier < order.size()) {
            shown.tier = static_cast<size_t>(tier);
            ++out.tiers[*shown.tier].members;
            if (shown.eligible) ++out.tiers[*shown.tier].eligible;
        }
        const auto position = std::find(traced.members.begin(), traced.members.end(), m);
        if (position != traced.members.end()) shown.position = static_cast<size_t>(position - traced.members.begin());
        out.members.push_back(std::move(shown));
    }
    return out;
}

// One line per step of the walk, in words.
std::vector<std::string> step_lines(const answer::Trace& trace) {
    using Kind = answer::Trace::Step::Kind;
    std::vector<std::string> lines;
    const zone::Zone* zone = nullptr;
    for (size_t i = 0; i < trace.steps.size(); ++i) {
        const answer::Trace::Step& step = trace.steps[i];
        const Kind next = i + 1 < trace.steps.size() ? trace.steps[i + 1].kind : Kind::zone;
        const std::string name = text_of(step.name);
        switch (step.kind) {
            case Kind::zone:
                if (zone != nullptr && step.zone != zone) lines.push_back(name + " is in zone " + step.zone->name);
                zone = step.zone;
                break;
            case Kind::parent_for_ds:
                zone = step.zone;
                lines.push_back(name + " is the apex of a child zone; DS is the parent's, so " + step.zone->name +
                                " answers");
                break;
            case Kind::no_zone:
                lines.push_back(name + (i == 0 ? " is in no zone this server serves"
                                               : " is outside the served zones: the resolver follows it"));
                break;
            case Kind::exact: break;
            case Kind::wildcard: lines.push_back(name + " is synthesised from " + text_of(step.node->name)); break;
            case Kind::delegation:
                lines.push_back(name + " is delegated at " + text_of(step.node->name) + ": a referral, not an answer");
                break;
            case Kind::nxdomain: lines.push_back(name + " does not exist: NXDOMAIN, the SOA in authority"); break;
            case Kind::cname: lines.push_back(name + " is an alias (CNAME) for " + text_of(step.target)); break;
            case Kind::cname_limit:
                lines.push_back(name + " is an alias (CNAME) for " + text_of(step.target) + ", past the " +
                                std::to_string(answer::max_cname_links) +
                                " links followed: the resolver takes over");
                break;
            case Kind::cname_loop:
                lines.push_back(name + " is an alias (CNAME) for " + text_of(step.target) +
                                ", already in the chain: a loop, not followed");
                break;
            case Kind::any:
                lines.push_back(step.type == 0 ? "ANY at " + name + ": it has no records"
                                               : "ANY at " + name + ": one RRset, its " + type_name(step.type) +
                                                     " records (RFC 8482)");
                break;
            case Kind::nodata:
                lines.push_back(name + " has no " + type_name(step.type) +
                                (i > 0 && trace.steps[i - 1].kind == Kind::pool ? " member that may answer" : " records") +
                                ": NODATA, the SOA in authority");
                break;
            case Kind::rrset:
                // A CNAME written as a link of the chain: the link's own line says it.
                if (step.type == rrtype::CNAME && (next == Kind::cname || next == Kind::cname_loop)) break;
                lines.push_back(name + " has static " + type_name(step.type) + " records" +
                                (step.count > 1 ? ", rotated per query (shown at rotation " +
                                                      std::to_string(step.rotation) + ")"
                                                : ""));
                break;
            case Kind::pool: {
                const answer::Trace::Pool& traced = trace.pools[step.index];
                lines.push_back(name + " takes its addresses from pool " +
                                traced.zone->pools[static_cast<size_t>(traced.node->pool)].name);
                break;
            }
        }
    }
    return lines;
}

std::string region_text(const ExplainReport& e, int32_t region) {
    return region < 0 ? "none" : e.region_names[static_cast<size_t>(region)];
}

std::string location_text(const geo::Location& location) {
    std::array<char, 64> text{};
    std::snprintf(text.data(), text.size(), "%.2f, %.2f", location.latitude_deg, location.longitude_deg);
    return text.data();
}

std::string client_text(const ExplainReport& e) {
    const ExplainRequest& request = e.request;
    if (!request.prefix) return e.client.address.to_string() + ", the query's source (no ECS)";
    const std::string given = network(request.client, *request.prefix);
    if (e.client.from_ecs) return given + ", from ECS (source prefix /" + std::to_string(*request.prefix) + ")";
    return given + " in ECS, but \"ecs\" is off: the query's source decides; taken as " +
           e.client.address.to_string();
}

// "label:" padded so that the facts line up.
std::ostringstream& line(std::ostringstream& out, std::string_view label) {
    constexpr size_t width = 14;
    out << label << ":" << std::string(label.size() + 1 < width ? width - label.size() - 1 : 1, ' ');
    return out;
}

std::string padded(std::string text, size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text;
}

void geo_lines(const ExplainReport& e, std::ostringstream& out) {
    if (!e.geo) {
        line(out, "region") << "none: no geo\n";
        return;
    }
    const geo::Explanation& g = *e.geo;
    const geo::Place& place = g.lookup.place;
    line(out, "geoip");
    if (!g.lookup.found) {
        out << "no record: " << g.client.to_string() << " is in the empty network "
            << network(g.lookup.network, g.lookup.prefix) << "\n";
    } else {
        out << network(g.lookup.network, g.lookup.prefix) << ": country "
            << (place.country.empty() ? "unknown" : place.country) << ", continent "
            << (place.continent.empty() ? "unknown" : place.continent)
            << (place.continent_from_table ? " (from the country table)" : "") << ", location "
            << (place.location ? location_text(*place.location) : "unknown")
            << (place.location_from_table ? " (the country's centre)" : "") << "\n";
    }
    const geo::Resolution& r = g.resolution;
    line(out, "region") << region_text(e, r.region) << ", by " << geo::to_string(r.reason);
    switch (r.reason) {
        case geo::Reason::subnet:
            if (r.subnet) out << " " << network(r.subnet->network, r.subnet->prefix);
            break;
        case geo::Reason::country: out << " " << place.country; break;
        case geo::Reason::continent: out << " " << place.continent; break;
        case geo::Reason::distance: {
            std::array<char, 32> km{};
            std::snprintf(km.data(), km.size(), "%.0f", r.distance_km);
            out << ": the nearest location, " << km.data() << " km away";
            break;
        }
        case geo::Reason::default_region: out << "_region: no subnet, country, continent or location matched"; break;
        case geo::Reason::none: out << ": nothing matched and there is no default_region"; break;
    }
    out << "\n";
    line(out, "region order");
    for (size_t i = 0; i < g.region_order.size(); ++i) out << (i ? ", " : "") << region_text(e, g.region_order[i]);
    out << " (" << e.order_rule << ")\n";
    line(out, "geo network") << network(g.scope_network, g.scope_prefix)
                             << ": every address in it gets this region order\n";
}

std::string order_text(const ExplainReport& e, const ExplainPool& pool) {
    std::string text(zone::to_string(pool.policy));
    switch (pool.policy) {
        case zone::Policy::round_robin:
            text += ": the tier's list rotated by one per query (shown at rotation " + std::to_string(e.counter) + ")";
            break;
        case zone::Policy::weighted: text += ": a random order drawn by weight (one draw shown)"; break;
        case zone::Policy::sticky:
            text += ": rendezvous hashing of " +
                    network(e.client.address, e.client.address.family == core::Family::v4 ? 24 : 56);
            break;
        case zone::Policy::priority:
            text += ": the lowest priority number with an eligible member, round-robin among them";
            break;
    }
    if (pool.max_answers > 0) text += "; max_answers " + std::to_string(pool.max_answers) + " keeps the first";
    return text;
}

std::string scope_text(const ExplainReport& e, const ExplainPool* pool) {
    if (!e.scope_prefix) return "none: no ECS in the query";
    const std::string value = "/" + std::to_string(*e.scope_prefix);
    if (!e.client.from_ecs) return value + ": the ECS address does not decide the answer";
    const bool answered = pool != nullptr && std::any_of(pool->members.begin(), pool->members.end(),
                                                         [](const ExplainMember& m) { return m.position; });
    const bool placed = answered && pool->uses_geo && e.geo.has_value();
    const bool sticky = answered && pool->policy == zone::Policy::sticky;
    if (!placed && !sticky) return value + ": the answer does not depend on the client";
    const std::string geo_network = "geo network /" + std::to_string(pool->geo_scope_prefix);
    const std::string sticky_network =
        "sticky's /" + std::to_string(e.client.address.family == core::Family::v4 ? 24 : 56);
    const std::string why = placed && sticky ? "the narrower of " + geo_network + " and " + sticky_network
                            : placed         ? geo_network
                                             : sticky_network;
    return value + ": " + why + ", capped at the source prefix /" + std::to_string(e.client.source_prefix);
}

void pool_lines(const ExplainReport& e, const ExplainPool& pool, std::ostringstream& out) {
    line(out, "pool") << pool.name << ", policy " << zone::to_string(pool.policy) << ", ttl " << pool.name_ttl
                      << ", degraded_ttl " << pool.degraded_ttl
                      << (pool.uses_geo ? "" : "; its members name no region, so geo does not matter") << "\n";
    const bool probed = std::any_of(pool.members.begin(), pool.members.end(),
                                    [](const ExplainMember& m) { return m.health.has_value(); });
    line(out, "members") << pool.type
                         << (probed && !e.live ? " (offline: no probe has run, so probed members count as up)" : "")
                         << "\n";
    size_t width = 0;
    size_t source_width = 6;
    for (const auto& m : pool.members) {
        width = std::max(width, m.address.to_string().size());
        source_width = std::max(source_width, m.source.size() + 2);
    }
    out << "  " << padded("address", width) << "  " << padded("source", source_width) << padded("region", 8)
        << padded("state", 16) << padded("health", 12) << padded("eligible", 10) << padded("tier", 6) << "answer\n";
    for (const auto& m : pool.members) {
        out << "  " << padded(m.address.to_string(), width) << "  " << padded(m.source, source_width)
            << padded(m.region.empty() ? "any" : m.region, 8)
            << padded(std::string(zone::to_string(m.state)) + (m.overridden ? " (override)" : ""), 16)
            << padded(!m.health ? "not probed" : *m.health ? "up" : m.pending ? "pending" : "down", 12)
            << padded(m.eligible ? "yes" : "no", 10)
            << padded(m.tier ? std::to_string(*m.tier + 1) : "none", 6)
            << (m.position ? "#" + std::to_string(*m.position + 1) : "-") << "\n";
    }
    for (const auto& m : pool.members) {
        if (!m.votes) continue;
        out << "  " << padded(m.address.to_string(), width) << "  fleet " << (m.votes->decision.up ? "up" : "down")
            << " (down on " << m.votes->decision.down << " of " << m.votes->decision.counted << "):";
        for (const auto& [node, up] : m.votes->votes) out << " " << node << " " << (up ? "up" : "down");
        out << "\n";
    }
    line(out, "tiers") << (pool.tiers.size() == 1 && pool.tiers[0].region.empty() ? "one: every member" : "in order")
                       << "\n";
    for (size_t i = 0; i < pool.tiers.size(); ++i) {
        const ExplainTier& tier = pool.tiers[i];
        out << "  " << i + 1 << ". " << (tier.region.empty() ? "every member" : tier.region) << ": " << tier.eligible
            << " of " << tier.members << " eligible";
        if (pool.answered_tier == i) out << ", answers (" << answer::to_string(pool.tier) << ")";
        if (pool.answered_tier && i > *pool.answered_tier) out << ", not tried";
        out << "\n";
    }
    if (pool.tier == answer::Tier::fail_open)
        out << "  no member is eligible in any tier: fail open, with every member not down, in tier order\n";
    line(out, "order") << order_text(e, pool) << "\n";
    line(out, "ttl") << pool.ttl
                     << (pool.tier == answer::Tier::primary ? " (the name's)" : " (degraded_ttl: not the primary tier)")
                     << "\n";
}

}  // namespace

std::optional<ExplainRequest> parse_explain_request(std::string_view name, std::string_view type,
                                                    std::string_view client, std::string& error) {
    ExplainRequest request;
    if (name.empty()) {
        error = "give a NAME to explain, such as www.demo.example";
        return std::nullopt;
    }
    request.name = std::string(name);
    if (!type.empty()) {
        const auto code = wire::type_code(type);
        if (!code) {
            error = "unknown TYPE \"" + std::string(type) + "\"; use a type such as A, AAAA, MX, DS, ANY or TYPE65";
            return std::nullopt;
        }
        request.type = *code;
    }
    const size_t slash = client.find('/');
    const auto address = core::Address::parse(client.substr(0, slash));
    if (!address) {
        error = "--client \"" + std::string(client) + "\" is not ADDR or ADDR/PREFIX, such as 192.0.2.1 or 192.0.2.0/24";
        return std::nullopt;
    }
    request.client = *address;
    if (slash != std::string_view::npos) {
        const std::string_view digits = client.substr(slash + 1);
        unsigned prefix = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || prefix == 0 ||
            prefix > address->max_prefix()) {
            error = "--client \"" + std::string(client) + "\": the prefix must be 1 to " +
                    std::to_string(address->max_prefix()) + " (an ECS source prefix)";
            return std::nullopt;
        }
        request.prefix = static_cast<uint8_t>(prefix);
        // As a resolver sends it: no bits past the prefix (RFC 7871 §6).
        request.client = address->masked(prefix);
    }
    std::string problem;
    const std::string absolute = request.name.back() == '.' ? request.name : request.name + ".";
    if (!zone::to_wire(absolute, std::string(1, '\0'), problem)) {
        error = "NAME: " + problem;
        return std::nullopt;
    }
    return request;
}

ExplainReport explain(const answer::View& view, const ExplainRequest& request, const ExplainOptions& options) {
    ExplainReport out;
    out.request = request;
    out.qtype = type_name(request.type);
    out.ecs_enabled = view.options.ecs;
    out.counter = options.counter;
    out.live = view.health != nullptr;

    // The query a client would send, as wire::parse_query leaves it: with ECS
    // when a prefix is given.
    wire::Query query;
    std::string problem;
    const std::string absolute = request.name.back() == '.' ? request.name : request.name + ".";
    const std::string qname = zone::to_wire(absolute, std::string(1, '\0'), problem).value_or(std::string(1, '\0'));
    query.has_question = true;
    query.qname.size = qname.size();
    std::copy(qname.begin(), qname.end(), query.qname.as_is.begin());
    std::copy(qname.begin(), qname.end(), query.qname.lower.begin());
    query.qtype = request.type;
    query.qclass = wire::qclass::in;
    if (request.prefix) {
        query.has_edns = true;
        query.edns.has_ecs = true;
        query.edns.ecs.address = request.client;
        query.edns.ecs.source_prefix = *request.prefix;
        out.scope_prefix = 0;
    }
    out.qname = text_of(query.qname.lower_view());
    out.client = answer::client_of(request.client, request.prefix ? &query.edns.ecs : nullptr, view.options.ecs);
    if (view.geo) {
        for (const auto& region : view.geo->regions().regions()) out.region_names.push_back(region.name);
        out.geo = view.geo->explain(out.client.address);
        out.order_rule = order_rule(*view.geo, *out.geo);
    }

    answer::WorkerState state;
    state.prepare(view);
    state.rotation_offset = options.counter;
    if (options.random != 0) state.rng_state = options.random;
    std::vector<uint8_t> response(wire::max_message_size);
    answer::Trace trace;
    const answer::Outcome outcome =
        answer::respond(query, request.client, answer::Transport::tcp, view, state, response, trace);
    response.resize(outcome.size);
    out.response = std::move(response);

    out.rcode = rcode_name(trace.rcode);
    out.authoritative = trace.authoritative;
    if (!trace.steps.empty() && trace.steps.front().zone != nullptr) {
        out.zone = trace.steps.front().zone->name;
        out.zone_file = trace.steps.front().zone->file;
    }
    out.steps = step_lines(trace);
    const auto answered = std::find_if(trace.pools.begin(), trace.pools.end(),
                                       [](const answer::Trace::Pool& p) { return p.section == wire::Section::answer; });
    if (answered != trace.pools.end()) out.pool = pool_report(out, *answered, options);
    for (const auto& rr : trace.records) {
        auto& section = rr.section == wire::Section::answer      ? out.answer
                        : rr.section == wire::Section::authority ? out.authority
                                                                 : out.additional;
        section.push_back(record(text_of(rr.owner), rr.ttl, rr.type, rdata_text(rr.type, rr.rdata)));
    }
    if (out.scope_prefix) out.scope_prefix = trace.ecs_scope_prefix;
    return out;
}

int run_explain(const Flags& flags, std::string_view name, std::string_view type, std::string_view client) {
    // Warnings, such as a missing default database, go to stderr, apart from the report.
    core::setup_logging(spdlog::level::warn);
    core::Diagnostics diagnostics;
    const std::optional<config::Config> config = settle(flags, diagnostics);
    if (!config) {
        for (const auto& diagnostic : diagnostics) std::fprintf(stderr, "%s\n", diagnostic.to_string().c_str());
        return 1;
    }
    std::string error;
    const std::optional<ExplainRequest> request = parse_explain_request(name, type, client, error);
    if (!request) {
        std::fprintf(stderr, "dnsd explain: %s\n", error.c_str());
        return 1;
    }
    const zone::DirectoryLoad zones = zone::load_directory(config->zones_dir, config->region_names());
    if (!zones.diagnostics.empty()) {
        for (const auto& diagnostic : zones.diagnostics) std::fprintf(stderr, "%s\n", diagnostic.to_string().c_str());
        return 1;
    }
    const std::shared_ptr<const geo::Geo> geo = load_geo(*config, error);
    if (!geo) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    const auto view = make_view(*config, zones.snapshot, nullptr, geo);
    std::fputs(to_text(explain(*view, *request, {})).c_str(), stdout);
    return 0;
}

std::string to_text(const ExplainReport& e) {
    std::ostringstream out;
    line(out, "question") << e.qname << " " << e.qtype << "\n";
    line(out, "client") << client_text(e) << "\n";
    geo_lines(e, out);
    if (!e.zone.empty()) line(out, "zone") << e.zone << " (" << e.zone_file << ")\n";
    for (const auto& step : e.steps) line(out, "name") << step << "\n";
    if (e.pool) pool_lines(e, *e.pool, out);
    line(out, "ecs scope") << scope_text(e, e.pool ? &*e.pool : nullptr) << "\n";
    line(out, "answer") << e.rcode << ", " << e.answer.size() << " record" << (e.answer.size() == 1 ? "" : "s")
                        << (e.authoritative || e.zone.empty() ? "" : ", not authoritative (AA clear)") << "\n";
    for (const auto& rr : e.answer) out << "  " << rr << "\n";
    if (!e.authority.empty()) line(out, "authority") << "\n";
    for (const auto& rr : e.authority) out << "  " << rr << "\n";
    if (!e.additional.empty()) line(out, "additional") << "\n";
    for (const auto& rr : e.additional) out << "  " << rr << "\n";
    return out.str();
}

json to_json(const ExplainReport& e) {
    json out;
    out["question"] = {{"name", e.qname}, {"type", e.qtype}};
    json client = {{"address", e.client.address.to_string()},
                   {"from_ecs", e.client.from_ecs},
                   {"ecs_enabled", e.ecs_enabled}};
    client["ecs_source"] = e.request.prefix ? json(network(e.request.client, *e.request.prefix)) : json(nullptr);
    out["client"] = client;
    if (e.geo) {
        const geo::Explanation& g = *e.geo;
        const geo::Place& place = g.lookup.place;
        json record = {{"found", g.lookup.found},
                       {"network", network(g.lookup.network, g.lookup.prefix)},
                       {"country", place.country.empty() ? json(nullptr) : json(place.country)},
                       {"continent", place.continent.empty() ? json(nullptr) : json(place.continent)},
                       {"continent_from_table", place.continent_from_table},
                       {"location_from_table", place.location_from_table}};
        record["location"] = place.location
                                 ? json::array({place.location->latitude_deg, place.location->longitude_deg})
                                 : json(nullptr);
        const geo::Resolution& r = g.resolution;
        json order = json::array();
        for (int32_t region : g.region_order) order.push_back(region_text(e, region));
        out["geo"] = {{"record", record},
                      {"region", r.region < 0 ? json(nullptr) : json(region_text(e, r.region))},
                      {"reason", std::string(geo::to_string(r.reason))},
                      {"subnet", r.subnet ? json(network(r.subnet->network, r.subnet->prefix)) : json(nullptr)},
                      {"distance_km", r.reason == geo::Reason::distance ? json(r.distance_km) : json(nullptr)},
                      {"region_order", order},
                      {"order_rule", e.order_rule},
                      {"network", network(g.scope_network, g.scope_prefix)}};
    } else {
        out["geo"] = nullptr;
    }
    out["zone"] = e.zone.empty() ? json(nullptr) : json({{"name", e.zone}, {"file", e.zone_file}});
    out["steps"] = e.steps;
    if (e.pool) {
        const ExplainPool& p = *e.pool;
        json tiers = json::array();
        for (size_t i = 0; i < p.tiers.size(); ++i)
            tiers.push_back({{"region", p.tiers[i].region.empty() ? json(nullptr) : json(p.tiers[i].region)},
                             {"members", p.tiers[i].members},
                             {"eligible", p.tiers[i].eligible},
                             {"answered", p.answered_tier == i}});
        json members = json::array();
        for (const auto& m : p.members)
            members.push_back({{"address", m.address.to_string()},
                               {"source", m.source},
                               {"region", m.region.empty() ? json(nullptr) : json(m.region)},
                               {"state", std::string(zone::to_string(m.state))},
                               {"overridden", m.overridden},
                               {"health", m.health ? json(*m.health ? "up" : m.pending ? "pending" : "down") : json(nullptr)},
                               {"target", m.target.empty() ? json(nullptr) : json(m.target)},
                               {"votes", m.votes ? json(votes_json(*m.votes)) : json(nullptr)},
                               {"fleet_health", m.votes ? json(m.votes->decision.up ? "up" : "down") : json(nullptr)},
                               {"eligible", m.eligible},
                               {"tier", m.tier ? json(*m.tier) : json(nullptr)},
                               {"position", m.position ? json(*m.position) : json(nullptr)}});
        out["pool"] = {{"name", p.name},
                       {"policy", std::string(zone::to_string(p.policy))},
                       {"order", order_text(e, p)},
                       {"max_answers", p.max_answers},
                       {"uses_geo", p.uses_geo},
                       {"tiers", tiers},
                       {"tier", std::string(answer::to_string(p.tier))},
                       {"members", members},
                       {"ttl", p.ttl},
                       {"name_ttl", p.name_ttl},
                       {"degraded_ttl", p.degraded_ttl},
                       {"geo_scope_prefix", p.geo_scope_prefix}};
    } else {
        out["pool"] = nullptr;
    }
    out["ecs_scope"] = e.scope_prefix ? json(*e.scope_prefix) : json(nullptr);
    out["rcode"] = e.rcode;
    out["authoritative"] = e.authoritative;
    out["answer"] = e.answer;
    out["authority"] = e.authority;
    out["additional"] = e.additional;
    return out;
}

}  // namespace dnsd::control
