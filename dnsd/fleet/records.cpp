#include "dnsd/fleet/records.hpp"

#include <nlohmann/json.hpp>

#include "dnsd/json/fields.hpp"
#include "dnsd/json/json.hpp"

namespace dnsd::fleet {

namespace {

constexpr std::string_view override_keys[] = {"zone", "pool", "address", "state", "node"};
constexpr std::string_view override_states[] = {"up", "down"};
constexpr std::string_view registration_keys[] = {"zone", "pool", "address", "region", "weight", "port",
                                                  "expires_at_ms", "node"};
constexpr std::string_view heartbeat_keys[] = {"node", "version", "started_at", "sent_at_ms", "zones", "zone_errors",
                                               "zones_revision"};
constexpr std::string_view vote_keys[] = {"node", "target", "health"};
constexpr std::string_view vote_words[] = {"up", "down"};
constexpr std::string_view zone_set_keys[] = {"files", "pushed_at", "pushed_by"};

// Parses `text` and hands its root object to `read`; nullopt on any problem.
template <typename T, typename Read>
std::optional<T> decode(std::string text, const std::string& where, core::Diagnostics& diagnostics,
                        std::string_view what, std::span<const std::string_view> keys, Read read) {
    const size_t before = diagnostics.size();
    const json::Text json_text(std::move(text), where);
    const auto root = json::parse(json_text, diagnostics);
    if (!root) return std::nullopt;
    json::Fields fields(json_text, diagnostics);
    if (!fields.is_object(*root, what)) return std::nullopt;
    fields.known_keys(*root, keys, "in " + std::string(what));
    T out = read(*root, fields);
    if (diagnostics.size() != before) return std::nullopt;
    return out;
}

const std::string* required_text(const json::Value& object, json::Fields& fields, std::string_view key,
                                 std::string_view what, std::string_view example) {
    const json::Value* value = fields.required(object, key, what, example);
    return value ? fields.string(*value, json::quote(key)) : nullptr;
}

// The zone, pool and address of a record about one pool member (and its
// writer, "node", checked only to be text) into `entry`; each problem in `fields`.
template <typename Member>
void read_member(const json::Value& root, json::Fields& fields, std::string_view what, Member& entry) {
    const std::string* zone_name = required_text(root, fields, "zone", what, "\"svc.example.com\"");
    const std::string* pool = required_text(root, fields, "pool", what, "\"web\"");
    const std::string* address = required_text(root, fields, "address", what, "\"192.0.2.10\"");
    if (const json::Value* node = root.find("node")) fields.string(*node, "\"node\"");
    if (!zone_name || !pool || !address) return;
    entry.zone = *zone_name;
    entry.pool = *pool;
    if (auto parsed = core::Address::parse(*address))
        entry.address = *parsed;
    else
        fields.error(root.find("address")->position, json::quote(*address) + " is not an IP address");
}

}  // namespace

std::string escape_key_part(std::string_view part) {
    constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(part.size());
    for (const char c : part) {
        const auto byte = static_cast<unsigned char>(c);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            out += c;
        } else {
            out += '=';
            out += hex[byte >> 4];
            out += hex[byte & 15];
        }
    }
    return out;
}

namespace {

// <prefix><zone>.<pool>.<address>: one pool member's key.
std::string member_key(std::string_view prefix, std::string_view zone, std::string_view pool,
                       const core::Address& address) {
    return std::string(prefix) + escape_key_part(zone) + "." + escape_key_part(pool) + "." +
           escape_key_part(address.to_string());
}

}  // namespace

std::string override_key(const health::Override& entry) {
    return member_key(override_prefix, entry.zone, entry.pool, entry.address);
}

std::string registration_key(const Registration& entry) {
    return member_key(registration_prefix, entry.zone, entry.pool, entry.address);
}

std::string node_key(std::string_view node) { return std::string(node_prefix) + escape_key_part(node); }

std::string vote_key(std::string_view node, std::string_view target) {
    return std::string(vote_prefix) + escape_key_part(node) + "." + escape_key_part(target);
}

std::string encode_override(const health::Override& entry, std::string_view node) {
    return nlohmann::json{{"zone", entry.zone},
                          {"pool", entry.pool},
                          {"address", entry.address.to_string()},
                          {"state", zone::to_string(entry.state)},
                          {"node", node}}
        .dump();
}

std::optional<health::Override> decode_override(std::string text, const std::string& where,
                                                core::Diagnostics& diagnostics) {
    return decode<health::Override>(
        std::move(text), where, diagnostics, "an override", override_keys,
        [](const json::Value& root, json::Fields& fields) {
            health::Override entry;
            read_member(root, fields, "an override", entry);
            const std::string* state = required_text(root, fields, "state", "an override", "\"down\"");
            if (!state) return entry;
            if (json::index_of(override_states, *state))
                entry.state = *zone::member_state(*state);
            else
                fields.error(root.find("state")->position,
                             "an override's state is \"up\" or \"down\", not " + json::quote(*state));
            return entry;
        });
}

std::string encode_registration(const Registration& entry, std::string_view node) {
    return nlohmann::json{
        {"zone", entry.zone},
        {"pool", entry.pool},
        {"address", entry.address.to_string()},
        {"region", entry.region},
        {"weight", entry.weight},
        {"port", entry.port},
        {"expires_at_ms",
         std::chrono::duration_cast<std::chrono::milliseconds>(entry.expires_at.time_since_epoch()).count()},
        {"node", node}}
        .dump();
}

std::optional<Registration> decode_registration(std::string text, const std::string& where,
                                                core::Diagnostics& diagnostics) {
    constexpr std::string_view what = "a registration";
    return decode<Registration>(
        std::move(text), where, diagnostics, what, registration_keys,
        [&](const json::Value& root, json::Fields& fields) {
            Registration entry;
            read_member(root, fields, what, entry);
            const json::Value* end = fields.required(root, "expires_at_ms", what, "1767225600000");
            if (end)
                if (auto ms = fields.integer(*end, "\"expires_at_ms\"", 0, INT64_MAX / 1'000'000))
                    entry.expires_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(*ms));
            if (const json::Value* v = root.find("region"))
                if (const std::string* s = fields.string(*v, "\"region\"")) entry.region = *s;
            if (const json::Value* v = root.find("weight"))
                if (auto n = fields.integer(*v, "\"weight\"", 0, json::max_int31))
                    entry.weight = static_cast<uint32_t>(*n);
            if (const json::Value* v = root.find("port"))
                if (auto n = fields.integer(*v, "\"port\"", 0, 65535)) entry.port = static_cast<uint16_t>(*n);
            return entry;
        });
}

std::string encode_heartbeat(const Heartbeat& heartbeat) {
    nlohmann::json zones = nlohmann::json::object();
    for (const auto& [name, serial] : heartbeat.zones) zones[name] = serial;
    return nlohmann::json{{"node", heartbeat.node},
                          {"version", heartbeat.version},
                          {"started_at", heartbeat.started_at_s},
                          {"sent_at_ms", heartbeat.sent_at_ms},
                          {"zones", std::move(zones)},
                          {"zone_errors", heartbeat.zone_errors},
                          {"zones_revision", heartbeat.zones_revision ? nlohmann::json(*heartbeat.zones_revision)
                                                                      : nlohmann::json(nullptr)}}
        .dump();
}

std::optional<Heartbeat> decode_heartbeat(std::string text, const std::string& where, core::Diagnostics& diagnostics) {
    return decode<Heartbeat>(
        std::move(text), where, diagnostics, "a heartbeat", heartbeat_keys,
        [](const json::Value& root, json::Fields& fields) {
            Heartbeat out;
            if (const std::string* node = required_text(root, fields, "node", "a heartbeat", "\"ns1\"")) out.node = *node;
            if (const json::Value* v = root.find("version"))
                if (const std::string* s = fields.string(*v, "\"version\"")) out.version = *s;
            if (const json::Value* v = root.find("started_at"))
                if (auto n = fields.integer(*v, "\"started_at\"", 0, INT64_MAX)) out.started_at_s = *n;
            if (const json::Value* v = root.find("sent_at_ms"))
                if (auto n = fields.integer(*v, "\"sent_at_ms\"", 0, INT64_MAX)) out.sent_at_ms = *n;
            if (const json::Value* v = root.find("zones"); v && fields.is_object(*v, "\"zones\""))
                for (const json::Member& member : v->members)
                    if (auto serial = fields.integer(member.value, "a serial", 0, UINT32_MAX))
                        out.zones[member.key] = static_cast<uint32_t>(*serial);
            if (const json::Value* v = root.find("zone_errors");
                v && fields.expect(*v, json::Kind::array, "\"zone_errors\"", "a list [ ... ]"))
                for (const json::Value& item : v->items)
                    if (const std::string* s = fields.string(item, "a zone error")) out.zone_errors.push_back(*s);
            if (const json::Value* v = root.find("zones_revision"); v && v->kind != json::Kind::null)
                if (auto n = fields.integer(*v, "\"zones_revision\"", 0, INT64_MAX))
                    out.zones_revision = static_cast<uint64_t>(*n);
            return out;
        });
}

std::string encode_vote(const VoteRecord& vote) {
    return nlohmann::json{{"node", vote.node}, {"target", vote.target}, {"health", vote.up ? "up" : "down"}}.dump();
}

std::optional<VoteRecord> decode_vote(std::string text, const std::string& where, core::Diagnostics& diagnostics) {
    return decode<VoteRecord>(
        std::move(text), where, diagnostics, "a verdict", vote_keys, [](const json::Value& root, json::Fields& fields) {
            VoteRecord out;
            if (const std::string* s = required_text(root, fields, "node", "a verdict", "\"ns1\"")) out.node = *s;
            if (const std::string* s = required_text(root, fields, "target", "a verdict", "\"192.0.2.10:80 tcp\""))
                out.target = *s;
            if (const std::string* s = required_text(root, fields, "health", "a verdict", "\"up\"")) {
                if (auto i = json::index_of(vote_words, *s))
                    out.up = *i == 0;
                else
                    fields.error(root.find("health")->position,
                                 "a verdict's health is \"up\" or \"down\", not " + json::quote(*s));
            }
            return out;
        });
}

bool is_zone_file_name(std::string_view name) {
    constexpr std::string_view suffix = ".json";
    if (name.size() <= suffix.size() || !name.ends_with(suffix) || name.front() == '.' || name.size() > 255)
        return false;
    for (const char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_'))
            return false;
    return true;
}

std::string encode_zone_set(const ZoneSet& zones) {
    nlohmann::json files = nlohmann::json::object();
    for (const auto& [name, text] : zones.files) files[name] = text;
    return nlohmann::json{{"files", std::move(files)}, {"pushed_at", zones.pushed_at_s}, {"pushed_by", zones.pushed_by}}
        .dump();
}

std::optional<ZoneSet> decode_zone_set(std::string text, const std::string& where, core::Diagnostics& diagnostics) {
    return decode<ZoneSet>(
        std::move(text), where, diagnostics, "a zone set", zone_set_keys,
        [](const json::Value& root, json::Fields& fields) {
            ZoneSet out;
            if (const json::Value* v = fields.required(root, "files", "a zone set", "{ \"x.json\": \"...\" }");
                v && fields.is_object(*v, "\"files\""))
                for (const json::Member& member : v->members) {
                    if (!is_zone_file_name(member.key)) {
                        fields.error(member.key_position, json::quote(member.key) +
                                                              " is not a zone file name (letters, digits, '.', '-', "
                                                              "'_', ending in .json)");
                        continue;
                    }
                    if (const std::string* s = fields.string(member.value, "a zone file's content"))
                        out.files[member.key] = *s;
                }
            if (const json::Value* v = root.find("pushed_at"))
                if (auto n = fields.integer(*v, "\"pushed_at\"", 0, INT64_MAX)) out.pushed_at_s = *n;
            if (const json::Value* v = root.find("pushed_by"))
                if (const std::string* s = fields.string(*v, "\"pushed_by\"")) out.pushed_by = *s;
            return out;
        });
}

}  // namespace dnsd::fleet
