// Zone JSON → SourceZone: every check that one field (or one object) can make
// on its own (health checks: check.cpp). Problems are reported and reading goes on, so that one pass
// finds all of them.
#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <span>
#include <unordered_map>

#include "dnsd/wire/message.hpp"
#include "dnsd/wire/types.hpp"
#include "dnsd/zone/name.hpp"
#include "dnsd/zone/source.hpp"

namespace dnsd::zone {

namespace {

constexpr std::string_view zone_keys[] = {"zone", "ttl", "soa", "records", "pools"};
constexpr std::string_view soa_keys[] = {"mname",   "rname",  "serial", "refresh",
                                         "retry",   "expire", "minimum"};
constexpr std::string_view owner_keys[] = {"A",   "AAAA", "CNAME", "NS",   "MX", "TXT",
                                           "SRV", "CAA",  "PTR",   "pool", "ttl"};
constexpr std::string_view mx_keys[] = {"preference", "exchange"};
constexpr std::string_view srv_keys[] = {"priority", "weight", "port", "target"};
constexpr std::string_view caa_keys[] = {"flags", "tag", "value"};
constexpr std::string_view pool_keys[] = {"policy", "routing", "max_answers", "ttl",
                                          "degraded_ttl", "check", "members", "members_from"};
constexpr std::string_view member_source_keys[] = {"dns",      "type",     "region",      "weight",
                                                   "state",    "resolver", "refresh_min", "refresh_max"};
constexpr std::string_view member_source_types[] = {"A", "AAAA", "SRV"};
constexpr uint16_t member_source_type_codes[] = {rrtype::A, rrtype::AAAA, rrtype::SRV};
constexpr int64_t max_refresh_s = 86400;
constexpr uint16_t dns_port = 53;
constexpr std::string_view member_keys[] = {"address", "region", "weight",
                                            "priority", "state", "port"};
constexpr size_t max_txt_string = 255;
constexpr size_t max_rdata = 65535;
constexpr size_t max_caa_tag = 15;
// A record in a message besides its RDATA, at best: its owner as a pointer to
// the question, then type, class, TTL and RDLENGTH.
constexpr size_t record_overhead = 2 + 2 + 2 + 4 + 2;
constexpr size_t question_overhead = 2 + 2;  // type and class after the name

// The smallest message that answers with the whole RRset: header, question,
// every record. RDATA names are counted as stored, though the encoder may
// compress some of them.
size_t smallest_answer_size(std::string_view owner, const std::vector<Rdata>& rdatas) {
    size_t size = wire::header_size + owner.size() + question_overhead;
    for (const Rdata& r : rdatas) size += record_overhead + r.wire.size();
    return size;
}

class ZoneReader {
public:
    ZoneReader(RegionNames regions, Fields& fields) : regions_(regions), fields_(fields) {}

    SourceZone read(const json::Value& root, uint32_t auto_serial) {
        if (!fields_.expect(root, json::Kind::object, "a zone file",
                            "an object { \"zone\": ..., \"soa\": ..., \"records\": ... }"))
            return std::move(zone_);
        fields_.known_keys(root, zone_keys, "in the zone");

        const json::Value* zone = root.find("zone");
        if (!zone) {
            fields_.error(root.position, "missing \"zone\"; add \"zone\": \"<zone name>\"");
            return std::move(zone_);
        }
        zone_.position = zone->position;
        const std::string* zone_name = fields_.string(*zone, "\"zone\"");
        if (!zone_name) return std::move(zone_);
        std::string problem = "a zone name cannot contain \"*\"";
        auto apex = zone_name->find('*') == std::string::npos
                        ? to_wire(*zone_name, std::string(1, '\0'), problem)
                        : std::nullopt;
        if (!apex) {
            fields_.error(zone->position, problem);
            return std::move(zone_);
        }
        zone_.apex = *apex;

        if (const json::Value* ttl = root.find("ttl"))
            if (auto v = fields_.integer(*ttl, "\"ttl\"", 0, max_int31)) zone_.ttl = static_cast<uint32_t>(*v);

        if (const json::Value* soa = root.find("soa"))
            read_soa(*soa, auto_serial);
        else
            fields_.error(root.position,
                          "missing \"soa\"; add \"soa\": { \"mname\": \"ns1\", \"rname\": "
                          "\"hostmaster\", \"serial\": \"auto\" }");

        // Pools first, so that each name's "pool" is resolved as it is read.
        if (const json::Value* pools = root.find("pools"))
            if (fields_.is_object(*pools, "\"pools\""))
                for (const auto& pool : pools->members) read_pool(pool);
        for (size_t i = 0; i < zone_.pools.size(); ++i)
            pool_index_.emplace(zone_.pools[i].pool.name, static_cast<int32_t>(i));

        if (const json::Value* records = root.find("records")) {
            zone_.records_position = records->position;
            if (fields_.is_object(*records, "\"records\"")) {
                const size_t count = records->members.size() + records->deferred.members;
                zone_.owners.reserve(count);
                zone_.set_positions.reserve(count);
                fields_.each_member(*records, [this](const json::Member& owner) { read_owner(owner); });
            }
        } else {
            zone_.records_position = root.position;
        }
        return std::move(zone_);
    }

private:
    std::optional<std::string> name(const json::Value& value, std::string_view what) {
        const std::string* text = fields_.string(value, what);
        if (!text) return std::nullopt;
        std::string problem;
        auto wire = to_wire(*text, zone_.apex, problem);
        if (!wire) fields_.error(value.position, problem);
        return wire;
    }

    // A whole number from 0 to the most T (or `max`) holds; `what` names the
    // object for the message when the key is missing and has no fallback.
    template <typename T>
    std::optional<T> count(const json::Value& object, std::string_view key, std::string_view what,
                           std::optional<T> fallback, int64_t max = std::numeric_limits<T>::max()) {
        const json::Value* v = object.find(key);
        if (!v) {
            if (!fallback)
                fields_.error(object.position, std::string(what) + " needs " + quote(key) + "; add " +
                                                   quote(key) + ": <number>");
            return fallback;
        }
        auto n = fields_.integer(*v, quote(key), 0, max);
        if (!n) return std::nullopt;
        return static_cast<T>(*n);
    }

    void read_soa(const json::Value& soa, uint32_t auto_serial) {
        if (!fields_.is_object(soa, "\"soa\"")) return;
        fields_.known_keys(soa, soa_keys, "in \"soa\"");
        if (const json::Value* v = fields_.required(soa, "mname", "\"soa\"", "\"ns1\""))
            if (auto wire = name(*v, "\"mname\"")) zone_.soa.mname = *wire;
        if (const json::Value* v = fields_.required(soa, "rname", "\"soa\"", "\"hostmaster\""))
            if (auto wire = name(*v, "\"rname\"")) zone_.soa.rname = *wire;

        zone_.soa.serial = auto_serial;
        if (const json::Value* serial = soa.find("serial"); serial && !(serial->kind == json::Kind::string &&
                                                                       serial->string == "auto")) {
            if (serial->kind == json::Kind::string)
                fields_.error(serial->position, "\"serial\" must be a whole number from 0 to 4294967295 or \"auto\"");
            else if (auto v = fields_.integer(*serial, "\"serial\"", 0, UINT32_MAX))
                zone_.soa.serial = static_cast<uint32_t>(*v);
        }
        struct Timer {
            std::string_view key;
            uint32_t rdata::Soa::*field;
            uint32_t fallback;
        };
        for (const Timer& t : {Timer{"refresh", &rdata::Soa::refresh, 3600}, Timer{"retry", &rdata::Soa::retry, 600},
                               Timer{"expire", &rdata::Soa::expire, 604800},
                               Timer{"minimum", &rdata::Soa::minimum, 30}}) {
            zone_.soa.*t.field = t.fallback;
            if (const json::Value* v = soa.find(t.key))
                if (auto n = fields_.integer(*v, quote(t.key), 0, max_int31))
                    zone_.soa.*t.field = static_cast<uint32_t>(*n);
        }
    }

    void read_owner(const json::Member& member) {
        SourceOwner owner;
        owner.text = member.key;
        owner.position = member.key_position;
        std::string problem;
        auto wire = to_wire(member.key, zone_.apex, problem);
        if (!wire) {
            fields_.error(member.key_position, problem);
            return;
        }
        if (!is_at_or_below(*wire, zone_.apex)) {
            fields_.error(member.key_position,
                          "name " + quote(member.key) + " is outside the zone " + quote(to_text(zone_.apex)) +
                              "; use a relative name or one ending in " + quote(to_text(zone_.apex)));
            return;
        }
        owner.wire = std::move(*wire);
        owner.first_set_position = static_cast<uint32_t>(zone_.set_positions.size());
        const json::Value& body = member.value;
        // The name is built into the message only when it is needed: this runs once a name.
        if (body.kind != json::Kind::object &&
            !fields_.expect(body, json::Kind::object, "the records of " + quote(member.key),
                            "an object such as { \"A\": [\"192.0.2.1\"] }"))
            return;
        if (std::all_of(body.members.begin(), body.members.end(), [](const json::Member& m) { return m.key == "ttl"; }))
            fields_.error(member.key_position, "no records at " + quote(member.key) +
                                                   "; add a record type such as \"A\" or remove the name");
        for (const auto& entry : body.members) {
            const std::string& key = entry.key;
            if (key == "ttl") {
                if (auto v = fields_.integer(entry.value, "\"ttl\"", 0, max_int31))
                    owner.ttl = static_cast<uint32_t>(*v);
            } else if (key == "pool") {
                if (const std::string* pool = fields_.string(entry.value, "\"pool\"")) {
                    const auto it = pool_index_.find(*pool);
                    owner.pool_reference = static_cast<uint32_t>(zone_.pool_references.size());
                    zone_.pool_references.push_back(
                        {*pool, entry.value.position, it == pool_index_.end() ? -1 : it->second});
                }
            } else if (key == "SOA") {
                fields_.error(entry.key_position,
                              "SOA comes from the zone's \"soa\" object; remove \"SOA\" here");
            } else if (uint16_t type = rdata::type_code(key)) {
                read_set(owner, type, entry);
            } else {
                fields_.error(entry.key_position, "unknown record type " + quote(key) + " at " +
                                                      quote(member.key) + suggest(key, owner_keys));
            }
        }
        zone_.owners.push_back(std::move(owner));
    }

    void read_set(SourceOwner& owner, uint16_t type, const json::Member& entry) {
        RRset set{type, 0, {}};
        const std::string& type_name = entry.key;
        if (type == rrtype::CNAME) {
            if (auto wire = name(entry.value, "CNAME (one name)")) set.rdatas.push_back(rdata::name(*wire));
        } else {
            auto list = entries(entry.value);
            if (list.empty())
                fields_.error(entry.value.position, "empty list for " + type_name + " at " + quote(owner.text) +
                                                        "; add a record or remove " + quote(type_name));
            for (const json::Value& item : list) {
                auto r = read_rdata(type, type_name, item);
                if (!r) continue;
                auto same = [&](const Rdata& other) { return other.wire == r->wire; };
                if (std::any_of(set.rdatas.begin(), set.rdatas.end(), same)) {
                    fields_.error(item.position, "duplicate " + type_name + " record at " + quote(owner.text) +
                                                     "; remove one");
                    continue;
                }
                set.rdatas.push_back(std::move(*r));
            }
        }
        // Over UDP it would be truncated, and TCP has nothing more to offer.
        if (const size_t size = smallest_answer_size(owner.wire, set.rdatas); size > wire::max_message_size)
            fields_.error(entry.key_position, "the " + type_name + " records at " + quote(owner.text) +
                                                  " need " + std::to_string(size) +
                                                  " octets in an answer, more than the 65535 a DNS message holds; "
                                                  "remove some or move them to another name");
        if (set.rdatas.empty()) return;
        owner.sets.push_back(std::move(set));
        zone_.set_positions.push_back(entry.key_position);
    }

    std::optional<Rdata> read_rdata(uint16_t type, const std::string& type_name, const json::Value& item) {
        switch (type) {
            case rrtype::A:
            case rrtype::AAAA: return read_address(type, item);
            case rrtype::NS:
            case rrtype::PTR: {
                auto wire = name(item, type_name + " entry");
                if (!wire) return std::nullopt;
                return rdata::name(*wire);
            }
            case rrtype::MX: return read_mx(item);
            case rrtype::SRV: return read_srv(item);
            case rrtype::CAA: return read_caa(item);
            case rrtype::TXT: return read_txt(item);
        }
        return std::nullopt;
    }

    std::optional<Rdata> read_address(uint16_t type, const json::Value& item) {
        bool v4 = type == rrtype::A;
        std::string_view example = v4 ? "\"192.0.2.1\"" : "\"2001:db8::1\"";
        const std::string* text = fields_.string(item, v4 ? "an A entry" : "an AAAA entry");
        if (!text) return std::nullopt;
        auto address = core::Address::parse(*text);
        if (!address) {
            fields_.error(item.position, quote(*text) + " is not an " + (v4 ? "IPv4" : "IPv6") +
                                             " address; write it as " + std::string(example));
            return std::nullopt;
        }
        if ((address->family == core::Family::v4) != v4) {
            fields_.error(item.position, quote(*text) + " is an " + (v4 ? "IPv6" : "IPv4") +
                                             " address; put it under " + (v4 ? "\"AAAA\"" : "\"A\""));
            return std::nullopt;
        }
        return rdata::address(*address);
    }

    std::optional<Rdata> read_mx(const json::Value& item) {
        if (!fields_.object_of(item, mx_keys, "an MX entry", "an object { \"preference\": 10, \"exchange\": \"mx\" }",
                               "in MX"))
            return std::nullopt;
        auto preference = count<uint16_t>(item, "preference", "MX", std::nullopt);
        const json::Value* exchange = fields_.required(item, "exchange", "MX", "\"mx.example.net.\"");
        auto wire = exchange ? name(*exchange, "\"exchange\"") : std::nullopt;
        if (!preference || !wire) return std::nullopt;
        return rdata::mx(*preference, *wire);
    }

    std::optional<Rdata> read_srv(const json::Value& item) {
        if (!fields_.object_of(item, srv_keys, "an SRV entry",
                               "an object { \"priority\": 10, \"weight\": 5, \"port\": 80, \"target\": \"www\" }",
                               "in SRV"))
            return std::nullopt;
        auto priority = count<uint16_t>(item, "priority", "SRV", std::nullopt);
        auto weight = count<uint16_t>(item, "weight", "SRV", std::nullopt);
        auto port = count<uint16_t>(item, "port", "SRV", std::nullopt);
        const json::Value* target = fields_.required(item, "target", "SRV", "\"www\"");
        auto wire = target ? name(*target, "\"target\"") : std::nullopt;
        if (!priority || !weight || !port || !wire) return std::nullopt;
        return rdata::srv(*priority, *weight, *port, *wire);
    }

    std::optional<Rdata> read_caa(const json::Value& item) {
        if (!fields_.object_of(item, caa_keys, "a CAA entry",
                               "an object { \"flags\": 0, \"tag\": \"issue\", \"value\": \"ca.example.net\" }",
                               "in CAA"))
            return std::nullopt;
        auto flags = count<uint8_t>(item, "flags", "CAA", uint8_t{0});
        const json::Value* tag_value = fields_.required(item, "tag", "CAA", "\"issue\"");
        const std::string* tag = tag_value ? fields_.string(*tag_value, "\"tag\"") : nullptr;
        if (tag) {
            bool alnum = std::all_of(tag->begin(), tag->end(),
                                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
            if (tag->empty() || tag->size() > max_caa_tag || !alnum) {
                fields_.error(tag_value->position, "CAA tag " + quote(*tag) +
                                                       " must be 1 to 15 letters and digits, such as \"issue\", "
                                                       "\"issuewild\" or \"iodef\"");
                tag = nullptr;
            }
        }
        const json::Value* value_value = fields_.required(item, "value", "CAA", "\"ca.example.net\"");
        const std::string* value = value_value ? fields_.string(*value_value, "\"value\"") : nullptr;
        if (!flags || !tag || !value) return std::nullopt;
        if (value->size() + tag->size() + 2 > max_rdata) {
            fields_.error(value_value->position, "CAA value is too long; keep it under 65000 octets");
            return std::nullopt;
        }
        return rdata::caa(*flags, *tag, *value);
    }

    std::optional<Rdata> read_txt(const json::Value& item) {
        std::vector<std::string> strings;
        bool ok = true;
        if (item.kind == json::Kind::array && item.items.empty()) {
            fields_.error(item.position, "empty TXT record; give at least one string, such as \"\"");
            return std::nullopt;
        }
        for (const json::Value& part : entries(item)) {
            const std::string* s = fields_.string(part, "a TXT string");
            if (!s) {
                ok = false;
                continue;
            }
            if (s->size() > max_txt_string) {
                fields_.error(part.position, "TXT string is " + std::to_string(s->size()) +
                                                 " octets; split it into strings of at most 255, as in "
                                                 "[\"first part\", \"second part\"]");
                ok = false;
                continue;
            }
            strings.push_back(*s);
        }
        if (!ok) return std::nullopt;
        Rdata r = rdata::txt(strings);
        if (r.wire.size() > max_rdata) {
            fields_.error(item.position, "TXT record is " + std::to_string(r.wire.size()) +
                                             " octets; keep it under 65536 by splitting it into records");
            return std::nullopt;
        }
        return r;
    }

    void read_pool(const json::Member& member) {
        SourcePool source;
        source.position = member.key_position;
        Pool& pool = source.pool;
        pool.name = member.key;
        std::string where = "in pool " + quote(member.key);
        const json::Value& body = member.value;
        if (fields_.expect(body, json::Kind::object, "pool " + quote(member.key),
                           "an object { \"members\": [ ... ] }")) {
            fields_.known_keys(body, pool_keys, where);
            if (const json::Value* policy = body.find("policy"))
                if (const std::string* text = fields_.string(*policy, "\"policy\"")) {
                    if (auto i = index_of(policy_names, *text))
                        pool.policy = static_cast<Policy>(*i);
                    else
                        fields_.error(policy->position, "unknown policy " + quote(*text) + suggest(*text, policy_names));
                }
            if (const json::Value* routing = body.find("routing"))
                if (const std::string* text = fields_.string(*routing, "\"routing\"")) {
                    if (auto i = index_of(routing_names, *text))
                        pool.routing = static_cast<Routing>(*i);
                    else
                        fields_.error(routing->position, "unknown routing " + quote(*text) + "; use \"geo\" or \"latency\"");
                }
            pool.max_answers = count<uint32_t>(body, "max_answers", "", 0u, max_int31).value_or(0);
            pool.ttl = zone_.ttl;
            if (const json::Value* ttl = body.find("ttl"))
                if (auto v = fields_.integer(*ttl, "\"ttl\"", 0, max_int31)) pool.ttl = static_cast<uint32_t>(*v);
            pool.degraded_ttl = pool.ttl;
            if (const json::Value* ttl = body.find("degraded_ttl"))
                if (auto v = fields_.integer(*ttl, "\"degraded_ttl\"", 0, max_int31))
                    pool.degraded_ttl = static_cast<uint32_t>(*v);
            const json::Value* check = body.find("check");
            if (check) read_check(*check, zone_.apex, fields_, pool.check);
            // Members come from the file, from DNS, or both.
            const json::Value* sources = body.find("members_from");
            if (sources) read_member_sources(pool, *sources);
            if (const json::Value* members = body.find("members"))
                read_members(pool, *members, sources != nullptr);
            else if (!sources)
                fields_.required(body, "members", "pool " + quote(member.key), "[{ \"address\": \"192.0.2.10\" }]");
            // TCP has no default port: the check, each member or each SRV record must name one.
            auto portless = [](const Member& m) { return m.port == 0; };
            auto address_source = [](const MemberSource& s) { return s.type != rrtype::SRV; };
            if (check && pool.check.type == Check::Type::tcp && !check->find("port") &&
                (std::any_of(pool.members.begin(), pool.members.end(), portless) ||
                 std::any_of(pool.members_from.begin(), pool.members_from.end(), address_source)))
                fields_.error(check->position, "a \"tcp\" check needs \"port\" (or a \"port\" on every member, "
                                               "and only SRV sources in \"members_from\"); add \"port\": 80");
        }
        // Kept even when broken, so that records naming it are not also reported.
        zone_.pools.push_back(std::move(source));
    }

    // `sourced`: the pool has "members_from" too, so its own list may be empty.
    void read_members(Pool& pool, const json::Value& members, bool sourced) {
        if (!fields_.expect(members, json::Kind::array, "\"members\"",
                            "a list [{ \"address\": \"192.0.2.10\" }, ...]"))
            return;
        if (members.items.empty() && !sourced)
            fields_.error(members.position, "pool " + quote(pool.name) +
                                                " has no members; add { \"address\": ... } entries");
        std::vector<json::Offset> positions;
        // Each address once, found in log time: pools may have thousands of members.
        std::map<std::pair<core::Family, std::array<uint8_t, 16>>, size_t> indices;
        for (const json::Value& item : members.items) {
            if (!fields_.object_of(item, member_keys, "a member", "an object { \"address\": \"192.0.2.10\" }",
                                   "in a member of pool " + quote(pool.name)))
                continue;
            Member m;
            const json::Value* address = fields_.required(item, "address", "a member", "\"192.0.2.10\"");
            const std::string* text = address ? fields_.string(*address, "\"address\"") : nullptr;
            if (!text) continue;
            auto parsed = core::Address::parse(*text);
            if (!parsed) {
                fields_.error(address->position, quote(*text) +
                                                     " is not an IP address; write it as \"192.0.2.10\" or "
                                                     "\"2001:db8::10\"");
                continue;
            }
            m.address = *parsed;
            auto [same, fresh] = indices.try_emplace({m.address.family, m.address.bytes}, pool.members.size());
            if (!fresh) {
                const json::Position first = fields_.text().position(positions[same->second]);
                fields_.error(address->position, *text + " is listed twice in pool " + quote(pool.name) +
                                                     " (first at line " + std::to_string(first.line) +
                                                     "); remove one");
                continue;
            }
            read_region(item, m.region);
            m.weight = count<uint32_t>(item, "weight", "", 1u, max_int31).value_or(1);
            m.priority = count<uint32_t>(item, "priority", "", 0u, max_int31).value_or(0);
            read_state(item, m.state);
            if (const json::Value* port = item.find("port"))
                if (auto p = fields_.integer(*port, "\"port\"", 1, 65535)) m.port = static_cast<uint16_t>(*p);
            pool.members.push_back(m);
            positions.push_back(address->position);
        }
    }

    // The "region" and "state" of a member, or of a source for all its members.
    void read_region(const json::Value& object, int32_t& region) {
        if (const json::Value* value = object.find("region"))
            if (const std::string* name = fields_.string(*value, "\"region\"")) {
                if (auto i = index_of(regions_, *name))
                    region = static_cast<int32_t>(*i);
                else
                    report_region(*value, *name);
            }
    }
    void read_state(const json::Value& object, MemberState& state) {
        if (const json::Value* value = object.find("state"))
            if (const std::string* s = fields_.string(*value, "\"state\"")) {
                if (auto i = index_of(member_state_names, *s))
                    state = static_cast<MemberState>(*i);
                else
                    fields_.error(value->position, "unknown member state " + quote(*s) + suggest(*s, member_state_names));
            }
    }

    // "members_from" (SPEC §11): each source once per pool, by name and type.
    void read_member_sources(Pool& pool, const json::Value& sources) {
        if (!fields_.expect(sources, json::Kind::array, "\"members_from\"",
                            "a list [{ \"dns\": \"web.service.consul.\", \"type\": \"A\" }, ...]"))
            return;
        if (sources.items.empty())
            fields_.error(sources.position, "\"members_from\" is empty; add { \"dns\": ..., \"type\": ... } "
                                            "entries or remove it");
        std::vector<json::Offset> positions;
        for (const json::Value& item : sources.items) {
            if (!fields_.object_of(item, member_source_keys, "a \"members_from\" entry",
                                   "an object { \"dns\": \"web.service.consul.\", \"type\": \"A\" }",
                                   "in \"members_from\" of pool " + quote(pool.name)))
                continue;
            auto source = read_member_source(item);
            if (!source) continue;
            auto same = [&](const MemberSource& s) { return s.name == source->name && s.type == source->type; };
            if (auto first = std::find_if(pool.members_from.begin(), pool.members_from.end(), same);
                first != pool.members_from.end()) {
                const json::Position at = fields_.text().position(positions[first - pool.members_from.begin()]);
                fields_.error(item.position, "\"members_from\" lists " + source->name + " " +
                                                 wire::type_name(source->type) + " twice in pool " + quote(pool.name) +
                                                 " (first at line " + std::to_string(at.line) + "); remove one");
                continue;
            }
            pool.members_from.push_back(std::move(*source));
            positions.push_back(item.position);
        }
    }

    std::optional<MemberSource> read_member_source(const json::Value& item) {
        MemberSource source;
        const json::Value* dns = fields_.required(item, "dns", "a \"members_from\" entry", "\"web.service.consul.\"");
        if (const std::string* text = dns ? fields_.string(*dns, "\"dns\"") : nullptr) {
            std::string problem = "a discovery name cannot contain \"*\"";
            auto wire = text->find('*') == std::string::npos ? to_wire(*text, zone_.apex, problem) : std::nullopt;
            if (wire)
                source.name = to_text(*wire);
            else
                fields_.error(dns->position, problem);
        }
        bool ok = !source.name.empty();
        const json::Value* type = fields_.required(item, "type", "a \"members_from\" entry", "\"A\" (or AAAA, SRV)");
        if (const std::string* text = type ? fields_.string(*type, "\"type\"") : nullptr) {
            if (auto i = index_of(member_source_types, *text))
                source.type = member_source_type_codes[*i];
            else {
                fields_.error(type->position, "unknown \"members_from\" type " + quote(*text) +
                                                  suggest(*text, member_source_types));
                ok = false;
            }
        } else {
            ok = false;
        }
        read_region(item, source.region);
        if (item.find("weight")) source.weight = count<uint32_t>(item, "weight", "", 1u, max_int31);
        read_state(item, source.state);
        if (const json::Value* resolver = item.find("resolver"))
            if (const std::string* text = fields_.string(*resolver, "\"resolver\"")) {
                source.resolver = core::Endpoint::parse(*text);
                if (!source.resolver)
                    if (auto address = core::Address::parse(*text))
                        source.resolver = core::Endpoint{*address, dns_port};
                if (!source.resolver || source.resolver->port == 0) {
                    fields_.error(resolver->position, "resolver " + quote(*text) +
                                                          " is not an address with a port from 1 to 65535; write it "
                                                          "as \"127.0.0.1:8600\", \"[::1]:53\" or \"192.0.2.53\"");
                    source.resolver.reset();
                }
            }
        const json::Value* low = item.find("refresh_min");
        const json::Value* high = item.find("refresh_max");
        if (low)
            if (auto s = fields_.integer(*low, "\"refresh_min\"", 1, max_refresh_s))
                source.refresh_min_s = static_cast<uint32_t>(*s);
        if (high)
            if (auto s = fields_.integer(*high, "\"refresh_max\"", 1, max_refresh_s))
                source.refresh_max_s = static_cast<uint32_t>(*s);
        if (source.refresh_min_s > source.refresh_max_s)
            fields_.error((low ? low : high)->position,
                          "\"refresh_min\" (" + std::to_string(source.refresh_min_s) +
                              " s) is more than \"refresh_max\" (" + std::to_string(source.refresh_max_s) +
                              " s); lower \"refresh_min\" or raise \"refresh_max\"");
        if (!ok) return std::nullopt;
        return source;
    }

    void report_region(const json::Value& at, const std::string& name) {
        if (regions_.empty()) {
            fields_.error(at.position, "region " + quote(name) +
                                           " is not defined: the config has no \"regions\"; define it there or "
                                           "remove \"region\"");
            return;
        }
        fields_.error(at.position, "region " + quote(name) + " is not defined in the config" + suggest(name, regions_));
    }

    RegionNames regions_;
    Fields& fields_;
    SourceZone zone_;
    std::unordered_map<std::string_view, int32_t> pool_index_;  // into zone_.pools, by name
};

}  // namespace

SourceZone read_zone(const json::Value& root, RegionNames regions, uint32_t auto_serial, Fields& fields) {
    return ZoneReader(regions, fields).read(root, auto_serial);
}

}  // namespace dnsd::zone
