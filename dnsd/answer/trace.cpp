#include "dnsd/answer/trace.hpp"

namespace dnsd::answer {

Trace::Step& Trace::step(Step::Kind kind, std::string_view name) {
    Step& added = steps.emplace_back();
    added.kind = kind;
    added.name = std::string(name);
    return added;
}

void Trace::zone_of(std::string_view name, const zone::Zone* zone, bool parent_for_ds) {
    step(zone == nullptr ? Step::Kind::no_zone : parent_for_ds ? Step::Kind::parent_for_ds : Step::Kind::zone, name)
        .zone = zone;
}

void Trace::looked_up(std::string_view name, const zone::Node* node, Step::Kind kind) { step(kind, name).node = node; }

void Trace::cname(std::string_view name, std::string_view target, Step::Kind kind) {
    step(kind, name).target = std::string(target);
}

void Trace::any(std::string_view name, uint16_t type) { step(Step::Kind::any, name).type = type; }

void Trace::nodata(std::string_view name, uint16_t type) { step(Step::Kind::nodata, name).type = type; }

void Trace::rrset(wire::Section section, std::string_view owner, const zone::RRset& rrset, uint32_t ttl,
                  uint64_t rotation) {
    if (section == wire::Section::answer) {
        Step& added = step(Step::Kind::rrset, owner);
        added.type = rrset.type;
        added.count = rrset.rdatas.size();
        added.rotation = rotation;
    }
    const size_t count = rrset.rdatas.size();
    for (size_t i = 0; i < count; ++i)
        records.push_back({section, std::string(owner), rrset.type, ttl, rrset.rdatas[(rotation + i) % count].wire});
}

void Trace::pool(wire::Section section, std::string_view owner, const PoolQuestion& question, const PoolChoice& choice,
                 std::span<const uint32_t> members) {
    Pool& added = pools.emplace_back();
    added.section = section;
    added.owner = std::string(owner);
    added.zone = question.zone;
    added.node = question.node;
    added.family = question.family;
    added.client = question.client;
    added.counter = question.counter;
    added.choice = choice;
    added.members.assign(members.begin(), members.end());
    if (section == wire::Section::answer) step(Step::Kind::pool, owner).index = pools.size() - 1;

    const zone::Pool& pool = question.zone->pools[static_cast<size_t>(question.node->pool)];
    const uint16_t type = question.family == core::Family::v4 ? zone::rrtype::A : zone::rrtype::AAAA;
    for (const uint32_t m : members) {
        const core::Address& address = pool.members[m].address;
        records.push_back({section, std::string(owner), type, choice.ttl,
                           std::vector<uint8_t>(address.bytes.begin(), address.bytes.begin() + address.size())});
    }
}

void Trace::finish(uint16_t rcode_, bool authoritative_, bool truncated_, uint8_t ecs_scope_prefix_) {
    rcode = rcode_;
    authoritative = authoritative_;
    truncated = truncated_;
    ecs_scope_prefix = ecs_scope_prefix_;
    if (truncated || rcode == wire::rcode::servfail) records.clear();
}

}  // namespace dnsd::answer
