#include "dnsd/control/explain.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <sstream>

#include "dnsd/answer/lookup.hpp"
#include "dnsd/core/log.hpp"
#include "dnsd/zone/load.hpp"
#include "dnsd/zone/name.hpp"

namespace dnsd::control {

namespace {

namespace rrtype = zone::rrtype;
using nlohmann::json;

// As respond() follows them.
constexpr size_t max_cname_links = 8;

struct TypeName {
    std::string_view name;
    uint16_t type;
};
constexpr std::array<TypeName, 10> type_names{{{"A", rrtype::A},
                                               {"AAAA", rrtype::AAAA},
                                               {"CNAME", rrtype::CNAME},
                                               {"NS", rrtype::NS},
                                               {"SOA", rrtype::SOA},
                                               {"MX", rrtype::MX},
                                               {"TXT", rrtype::TXT},
                                               {"SRV", rrtype::SRV},
                                               {"CAA", rrtype::CAA},
                                               {"PTR", rrtype::PTR}}};

std::string type_name(uint16_t type) {
    for (const auto& t : type_names)
        if (t.type == type) return std::string(t.name);
    return "TYPE" + std::to_string(type);
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string network(const core::Address& address, unsigned prefix) {
    return address.masked(prefix).to_string() + "/" + std::to_string(prefix);
}

std::string_view policy_name(zone::Policy policy) {
    switch (policy) {
        case zone::Policy::round_robin: return "round-robin";
        case zone::Policy::weighted: return "weighted";
        case zone::Policy::sticky: return "sticky";
        case zone::Policy::priority: return "priority";
    }
    return "round-robin";
}

std::string_view state_name(zone::MemberState state) {
    switch (state) {
        case zone::MemberState::automatic: return "auto";
        case zone::MemberState::up: return "up";
        case zone::MemberState::down: return "down";
    }
    return "auto";
}

std::string_view tier_name(answer::Tier tier) {
    switch (tier) {
        case answer::Tier::primary: return "primary";
        case answer::Tier::fallback: return "fallback";
        case answer::Tier::fail_open: return "fail open";
    }
    return "primary";
}

// RDATA in presentation form where it is simple, else RFC 3597's generic form.
std::string rdata_text(uint16_t type, const zone::Rdata& rdata) {
    const auto& wire = rdata.wire;
    if ((type == rrtype::A && wire.size() == 4) || (type == rrtype::AAAA && wire.size() == 16)) {
        core::Address address;
        address.family = type == rrtype::A ? core::Family::v4 : core::Family::v6;
        std::copy(wire.begin(), wire.end(), address.bytes.begin());
        return address.to_string();
    }
    if (type == rrtype::CNAME || type == rrtype::NS || type == rrtype::PTR)
        return zone::to_text(std::string_view(reinterpret_cast<const char*>(wire.data()), wire.size()));
    std::string out = "\\# " + std::to_string(wire.size()) + " ";
    for (uint8_t byte : wire) {
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

class Explainer {
public:
    Explainer(const zone::Snapshot& snapshot, const health::HealthView* health, const geo::Geo* geo,
              const ExplainOptions& options, Explanation& out)
        : snapshot_(snapshot), health_(health), geo_(geo), options_(options), out_(out) {}

    void run(std::string_view qname_wire);

private:
    void answer_pool(const zone::Zone& zone, const zone::Node& node, std::string_view owner);
    void answer_static(const zone::Zone& zone, const zone::Node& node, std::string_view owner);

    const zone::Snapshot& snapshot_;
    const health::HealthView* health_;
    const geo::Geo* geo_;
    const ExplainOptions& options_;
    Explanation& out_;
};

void Explainer::run(std::string_view qname_wire) {
    const uint16_t qtype = out_.request.type;
    std::string name(qname_wire);
    const zone::Zone* zone = snapshot_.find_zone(name);
    if (zone == nullptr) {
        out_.rcode = "REFUSED";
        out_.steps.push_back(out_.qname + " is in no zone this server serves");
        return;
    }
    out_.rcode = "NOERROR";
    out_.zone = zone->name;
    out_.zone_file = zone->file;
    for (size_t links = 0;; ++links) {
        const std::string owner = zone::to_text(name);
        const answer::Lookup found = answer::lookup(*zone, name, qtype);
        if (found.kind == answer::Lookup::Kind::nxdomain) {
            out_.rcode = "NXDOMAIN";
            out_.steps.push_back(owner + " does not exist in zone " + zone->name);
            return;
        }
        if (found.kind == answer::Lookup::Kind::delegation) {
            out_.steps.push_back(owner + " is delegated at " + zone::to_text(found.node->name) +
                                 ": a referral, not an answer");
            return;
        }
        const zone::Node& node = *found.node;
        if (found.kind == answer::Lookup::Kind::wildcard)
            out_.steps.push_back(owner + " is synthesised from " + zone::to_text(node.name));
        const zone::RRset* cname = node.find(rrtype::CNAME);
        if (cname != nullptr && !cname->rdatas.empty() && qtype != rrtype::CNAME) {
            const std::string target = rdata_text(rrtype::CNAME, cname->rdatas.front());
            out_.answer.push_back(record(owner, cname->ttl, rrtype::CNAME, target));
            out_.steps.push_back(owner + " is an alias (CNAME) for " + target);
            std::string problem;
            auto next = zone::to_wire(target, std::string(1, '\0'), problem);
            if (links + 1 == max_cname_links || !next) return;
            name = std::move(*next);
            zone = snapshot_.find_zone(name);
            if (zone == nullptr) {
                out_.steps.push_back(target + " is outside the served zones: the resolver follows it");
                return;
            }
            continue;
        }
        if ((qtype == rrtype::A || qtype == rrtype::AAAA) && node.pool >= 0)
            answer_pool(*zone, node, owner);
        else
            answer_static(*zone, node, owner);
        return;
    }
}

void Explainer::answer_static(const zone::Zone& zone, const zone::Node& node, std::string_view owner) {
    const zone::RRset* rrset = node.find(out_.request.type);
    if (rrset == nullptr || rrset->rdatas.empty()) {
        out_.steps.push_back(std::string(owner) + " has no " + out_.qtype + " records: NODATA, the SOA of " +
                             zone.name + " in authority");
        return;
    }
    const size_t count = rrset->rdatas.size();
    out_.steps.push_back(std::string(owner) + " has static " + out_.qtype + " records (no pool): every client gets " +
                         (count > 1 ? "them, rotated per query" : "it"));
    // Rotated as respond() rotates static RRsets: the counter picks the first.
    for (size_t i = 0; i < count; ++i)
        out_.answer.push_back(record(owner, rrset->ttl, rrset->type,
                                     rdata_text(rrset->type, rrset->rdatas[(options_.counter + i) % count])));
}

void Explainer::answer_pool(const zone::Zone& zone, const zone::Node& node, std::string_view owner) {
    const zone::Pool& pool = zone.pools[static_cast<size_t>(node.pool)];
    answer::PoolQuestion question;
    question.zone = &zone;
    question.node = &node;
    question.family = out_.request.type == rrtype::A ? core::Family::v4 : core::Family::v6;
    question.client = out_.client;
    question.health = health_;
    question.geo = geo_;
    question.counter = options_.counter;
    question.random = options_.random;
    std::vector<uint32_t> chosen(pool.members.size());
    std::vector<uint64_t> scratch(pool.members.size());
    const answer::PoolChoice choice = answer::choose(question, chosen, scratch);
    const answer::SelectInput& input = choice.input;
    const answer::Selection& selection = choice.selection;

    ExplainPool report;
    report.name = pool.name;
    report.policy = pool.policy;
    report.max_answers = pool.max_answers;
    report.name_ttl = node.pool_ttl;
    report.degraded_ttl = pool.degraded_ttl;
    report.uses_geo = pool.uses_geo;
    report.tier = selection.tier;
    report.ttl = choice.ttl;
    report.geo_scope_prefix = choice.placement.scope_prefix;
    report.scope_prefix = choice.scope_prefix;

    const auto order = input.region_order;
    if (order.empty()) {
        report.tiers.push_back(ExplainTier{});
    } else {
        for (int32_t region : order) report.tiers.push_back(ExplainTier{out_.region_names[static_cast<size_t>(region)]});
    }
    if (selection.tier != answer::Tier::fail_open) {
        const auto at = std::find(order.begin(), order.end(), selection.region);
        report.answered_tier = order.empty() ? 0 : static_cast<size_t>(at - order.begin());
    }

    const auto& family = question.family == core::Family::v4 ? pool.v4 : pool.v6;
    for (uint32_t m : family) {
        const zone::Member& member = pool.members[m];
        ExplainMember shown;
        shown.address = member.address;
        if (member.region >= 0) shown.region = out_.region_names[static_cast<size_t>(member.region)];
        shown.state = answer::state_of(input, m);
        shown.overridden = shown.state != member.state;
        if (member.health_slot != UINT32_MAX)
            shown.health = input.health == nullptr || input.health->is_up(member.health_slot);
        shown.eligible = answer::eligible(input, m);
        const uint64_t tier = answer::tier_of(member, order);
        if (order.empty() || tier < order.size()) {
            shown.tier = static_cast<size_t>(tier);
            ++report.tiers[shown.tier.value()].members;
            if (shown.eligible) ++report.tiers[shown.tier.value()].eligible;
        }
        for (size_t i = 0; i < selection.count; ++i)
            if (chosen[i] == m) shown.position = i;
        report.members.push_back(std::move(shown));
    }

    if (selection.count == 0)
        out_.steps.push_back(std::string(owner) + " has no " + out_.qtype + " member in pool " + pool.name +
                             " that may answer: NODATA, the SOA of " + zone.name + " in authority");
    for (size_t i = 0; i < selection.count; ++i)
        out_.answer.push_back(record(owner, choice.ttl, out_.request.type,
                                     pool.members[chosen[i]].address.to_string()));
    if (out_.scope_prefix) out_.scope_prefix = choice.scope_prefix;
    out_.pool = std::move(report);
}

std::string region_text(const Explanation& e, int32_t region) {
    return region < 0 ? "none" : e.region_names[static_cast<size_t>(region)];
}

std::string location_text(const geo::Location& location) {
    std::array<char, 64> text{};
    std::snprintf(text.data(), text.size(), "%.2f, %.2f", location.latitude_deg, location.longitude_deg);
    return text.data();
}

std::string client_text(const Explanation& e) {
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

void geo_lines(const Explanation& e, std::ostringstream& out) {
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

std::string order_text(const Explanation& e, const ExplainPool& pool) {
    std::string text(policy_name(pool.policy));
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

std::string scope_text(const Explanation& e, const ExplainPool* pool) {
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

void pool_lines(const Explanation& e, const ExplainPool& pool, std::ostringstream& out) {
    line(out, "pool") << pool.name << ", policy " << policy_name(pool.policy) << ", ttl " << pool.name_ttl
                      << ", degraded_ttl " << pool.degraded_ttl
                      << (pool.uses_geo ? "" : "; its members name no region, so geo does not matter") << "\n";
    const bool probed = std::any_of(pool.members.begin(), pool.members.end(),
                                    [](const ExplainMember& m) { return m.health.has_value(); });
    line(out, "members") << e.qtype
                         << (probed && !e.live ? " (offline: no probe has run, so probed members count as up)" : "")
                         << "\n";
    size_t width = 0;
    for (const auto& m : pool.members) width = std::max(width, m.address.to_string().size());
    out << "  " << padded("address", width) << "  " << padded("region", 8) << padded("state", 16)
        << padded("health", 12) << padded("eligible", 10) << padded("tier", 6) << "answer\n";
    for (const auto& m : pool.members) {
        out << "  " << padded(m.address.to_string(), width) << "  " << padded(m.region.empty() ? "any" : m.region, 8)
            << padded(std::string(state_name(m.state)) + (m.overridden ? " (override)" : ""), 16)
            << padded(!m.health ? "not probed" : *m.health ? "up" : "down", 12) << padded(m.eligible ? "yes" : "no", 10)
            << padded(m.tier ? std::to_string(*m.tier + 1) : "none", 6)
            << (m.position ? "#" + std::to_string(*m.position + 1) : "-") << "\n";
    }
    line(out, "tiers") << (pool.tiers.size() == 1 && pool.tiers[0].region.empty() ? "one: every member" : "in order")
                       << "\n";
    for (size_t i = 0; i < pool.tiers.size(); ++i) {
        const ExplainTier& tier = pool.tiers[i];
        out << "  " << i + 1 << ". " << (tier.region.empty() ? "every member" : tier.region) << ": " << tier.eligible
            << " of " << tier.members << " eligible";
        if (pool.answered_tier == i) out << ", answers (" << tier_name(pool.tier) << ")";
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
        const std::string wanted = upper(type);
        const auto it = std::find_if(type_names.begin(), type_names.end(),
                                     [&](const TypeName& t) { return t.name == wanted; });
        if (it == type_names.end()) {
            error = "unknown TYPE \"" + std::string(type) + "\"; use A, AAAA, CNAME, NS, SOA, MX, TXT, SRV, CAA or PTR";
            return std::nullopt;
        }
        request.type = it->type;
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

Explanation explain(const zone::Snapshot& snapshot, const health::HealthView* health, const geo::Geo* geo,
                    const ExplainRequest& request, const ExplainOptions& options) {
    Explanation out;
    out.request = request;
    out.qtype = type_name(request.type);
    out.ecs_enabled = options.ecs;
    out.counter = options.counter;
    out.live = health != nullptr;
    std::string problem;
    const std::string absolute = request.name.back() == '.' ? request.name : request.name + ".";
    const std::string qname = zone::to_wire(absolute, std::string(1, '\0'), problem).value_or(std::string(1, '\0'));
    out.qname = zone::to_text(qname);

    // Step 1 as respond() takes it: the ECS address, or the query's source.
    wire::ClientSubnet ecs;
    if (request.prefix) {
        ecs.address = request.client;
        ecs.source_prefix = *request.prefix;
        out.scope_prefix = 0;
    }
    out.client = answer::client_of(request.client, request.prefix ? &ecs : nullptr, options.ecs);

    if (geo != nullptr) {
        for (const auto& region : geo->regions().regions()) out.region_names.push_back(region.name);
        out.geo = geo->explain(out.client.address);
        out.order_rule = order_rule(*geo, *out.geo);
    }
    Explainer(snapshot, health, geo, options, out).run(qname);
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
    ExplainOptions options;
    options.ecs = config->ecs;
    std::fputs(to_text(explain(*zones.snapshot, nullptr, geo.get(), *request, options)).c_str(), stdout);
    return 0;
}

std::string to_text(const Explanation& e) {
    std::ostringstream out;
    line(out, "question") << e.qname << " " << e.qtype << "\n";
    line(out, "client") << client_text(e) << "\n";
    geo_lines(e, out);
    if (!e.zone.empty()) line(out, "zone") << e.zone << " (" << e.zone_file << ")\n";
    for (const auto& step : e.steps) line(out, "name") << step << "\n";
    if (e.pool) pool_lines(e, *e.pool, out);
    line(out, "ecs scope") << scope_text(e, e.pool ? &*e.pool : nullptr) << "\n";
    line(out, "answer") << e.rcode << ", " << e.answer.size() << " record" << (e.answer.size() == 1 ? "" : "s") << "\n";
    for (const auto& rr : e.answer) out << "  " << rr << "\n";
    return out.str();
}

json to_json(const Explanation& e) {
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
                               {"region", m.region.empty() ? json(nullptr) : json(m.region)},
                               {"state", std::string(state_name(m.state))},
                               {"overridden", m.overridden},
                               {"health", m.health ? json(*m.health ? "up" : "down") : json(nullptr)},
                               {"eligible", m.eligible},
                               {"tier", m.tier ? json(*m.tier) : json(nullptr)},
                               {"position", m.position ? json(*m.position) : json(nullptr)}});
        out["pool"] = {{"name", p.name},
                       {"policy", std::string(policy_name(p.policy))},
                       {"order", order_text(e, p)},
                       {"max_answers", p.max_answers},
                       {"uses_geo", p.uses_geo},
                       {"tiers", tiers},
                       {"tier", std::string(tier_name(p.tier))},
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
    out["answer"] = e.answer;
    return out;
}

}  // namespace dnsd::control
