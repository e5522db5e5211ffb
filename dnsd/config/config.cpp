#include "dnsd/config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>

#include <unistd.h>

#include "dnsd/json/fields.hpp"
#include "dnsd/json/json.hpp"

namespace dnsd::config {

int Config::region_index(std::string_view name) const {
    for (size_t i = 0; i < regions.size(); ++i)
        if (regions[i].name == name) return static_cast<int>(i);
    return -1;
}

std::vector<std::string_view> Config::region_names() const {
    std::vector<std::string_view> names;
    for (const Region& region : regions) names.push_back(region.name);
    return names;
}

std::string to_string(const Quorum& quorum) {
    constexpr std::string_view words[] = {"any", "majority", "all"};
    if (quorum.rule == Quorum::Rule::at_least) return std::to_string(quorum.count);
    return std::string(words[static_cast<size_t>(quorum.rule)]);
}

Config defaults() {
    Config config;
    config.listen = {*core::Endpoint::parse("127.0.0.1:5353"), *core::Endpoint::parse("[::1]:5353")};
    config.zones_dir = "zones";
    // geoip/SOURCE.md: the shipped database's records are {"country_code": "XX"};
    // continents and coordinates come from the built-in country table.
    config.geoip_path = "geoip/country.mmdb";
    config.geoip_fields.country = {"country_code"};
    config.geoip_fields.continent = {};
    config.geoip_fields.latitude = {};
    config.geoip_fields.longitude = {};
    // Three sites a small fleet typically starts with: Frankfurt, Ashburn and
    // Singapore. Without fallback lists, a region's clients go next to the
    // nearest other site. Antarctica (AN) is placed by distance.
    auto site = [](std::string name, std::vector<std::string> continents, double latitude, double longitude) {
        Region region;
        region.name = std::move(name);
        region.continents = std::move(continents);
        region.location = std::pair{latitude, longitude};
        return region;
    };
    config.regions = {site("eu", {"EU", "AF"}, 50.11, 8.68), site("us", {"NA", "SA"}, 39.04, -77.49),
                      site("ap", {"AS", "OC"}, 1.35, 103.82)};
    config.default_region = "us";
    config.http = core::Endpoint::parse("127.0.0.1:8053");
    return config;
}

namespace {

using json::Fields;

constexpr std::string_view config_keys[] = {"listen", "zones",       "geoip",  "regions",     "default_region",
                                            "threads", "http",       "http_token", "ecs",      "udp_payload",
                                            "nsid",    "tcp",        "log_level",  "state_dir",
                                            "rrl",     "cookie_secret", "cookie_secret_previous", "fleet",
                                            "latency"};
constexpr std::string_view geoip_keys[] = {"path", "country", "continent", "latitude", "longitude"};
constexpr std::string_view region_keys[] = {"continents", "countries", "subnets", "location", "fallback"};
constexpr std::string_view tcp_keys[] = {"idle_timeout", "max_connections", "max_connections_per_client"};
constexpr std::string_view rrl_keys[] = {"responses_per_second", "slip", "ipv4_prefix", "ipv6_prefix", "exempt"};
// The registry of limited networks keeps an IPv6 network in 64 bits.
constexpr int64_t max_rrl_ipv6_prefix = 64;
constexpr std::string_view fleet_keys[] = {"nats", "node", "token", "creds", "health_quorum", "stale_after", "zones"};
constexpr std::string_view latency_keys[] = {"half_life", "min_samples", "table"};
constexpr int64_t max_half_life_s = 365 * 86400;
constexpr int64_t max_min_samples = 1000000;
constexpr std::string_view quorum_words[] = {"any", "majority", "all"};
constexpr std::string_view fleet_zone_words[] = {"local", "shared"};
constexpr size_t max_node_name = 64;
constexpr int64_t max_stale_after_s = 3600;
constexpr int64_t max_quorum = 1000;
constexpr std::string_view continent_codes[] = {"AF", "AN", "AS", "EU", "NA", "OC", "SA"};
constexpr std::string_view log_levels[] = {"debug", "info", "warn", "error"};
constexpr int64_t max_threads = 1024;
constexpr size_t max_nsid = 255;
constexpr uint32_t max_idle_timeout_s = 86400;

class ConfigReader {
public:
    ConfigReader(Config& config, Fields& fields, std::filesystem::path base)
        : config_(config), fields_(fields), base_(std::move(base)) {}

    void read(const json::Value& root) {
        if (!fields_.is_object(root, "the config file")) return;
        fields_.known_keys(root, config_keys, "in the config");
        if (const json::Value* v = root.find("listen")) read_listen(*v);
        if (const json::Value* v = root.find("zones"))
            if (const std::string* s = fields_.string(*v, "\"zones\"")) {
                if (s->empty())
                    fields_.error(v->position, "\"zones\" is empty; name the zones directory, such as \"zones\"");
                else
                    config_.zones_dir = resolve(*s);
            }
        if (const json::Value* v = root.find("geoip")) read_geoip(*v);
        if (const json::Value* v = root.find("regions")) read_regions(*v);
        if (const json::Value* v = root.find("default_region"))
            if (const std::string* s = fields_.string(*v, "\"default_region\"")) {
                if (config_.region_index(*s) >= 0 || (s->empty() && config_.regions.empty()))
                    config_.default_region = *s;
                else
                    undefined_region(*v, *s, "\"default_region\"");
            }
        if (const json::Value* v = root.find("threads"))
            if (auto n = fields_.integer(*v, "\"threads\"", 0, max_threads)) config_.threads = static_cast<unsigned>(*n);
        if (const json::Value* v = root.find("http")) read_http(*v);
        if (const json::Value* v = root.find("http_token"))
            if (const std::string* s = fields_.string(*v, "\"http_token\"")) config_.http_token = *s;
        if (const json::Value* v = root.find("ecs"))
            if (auto b = fields_.boolean(*v, "\"ecs\"")) config_.ecs = *b;
        if (const json::Value* v = root.find("udp_payload"))
            if (auto n = fields_.integer(*v, "\"udp_payload\"", 512, 65535)) config_.udp_payload = static_cast<uint16_t>(*n);
        if (const json::Value* v = root.find("nsid"))
            if (const std::string* s = fields_.string(*v, "\"nsid\"")) {
                if (s->size() > max_nsid)
                    fields_.error(v->position, "\"nsid\" is " + std::to_string(s->size()) +
                                                   " octets; keep it to at most 255");
                else
                    config_.nsid = *s;
            }
        if (const json::Value* v = root.find("tcp")) read_tcp(*v);
        if (const json::Value* v = root.find("rrl")) read_rrl(*v);
        if (const json::Value* v = root.find("cookie_secret")) config_.cookie_secret = secret(*v, "\"cookie_secret\"");
        if (const json::Value* v = root.find("cookie_secret_previous")) {
            config_.cookie_secret_previous = secret(*v, "\"cookie_secret_previous\"");
            if (!root.find("cookie_secret"))
                fields_.error(v->position, "\"cookie_secret_previous\" needs a \"cookie_secret\" to rotate to; "
                                           "add the new secret as \"cookie_secret\"");
        }
        if (const json::Value* v = root.find("log_level"))
            if (const std::string* s = fields_.string(*v, "\"log_level\"")) {
                if (std::find(std::begin(log_levels), std::end(log_levels), *s) != std::end(log_levels))
                    config_.log_level = *s;
                else
                    fields_.error(v->position, "unknown \"log_level\" " + json::quote(*s) + json::suggest(*s, log_levels));
            }
        // The default too is beside the config file.
        config_.state_dir = resolve(config_.state_dir);
        if (const json::Value* v = root.find("state_dir"))
            if (const std::string* s = fields_.string(*v, "\"state_dir\"")) {
                if (s->empty())
                    fields_.error(v->position, "\"state_dir\" is empty; name a directory dnsd may write, such as "
                                               "\"/var/lib/dnsd\"");
                else
                    config_.state_dir = resolve(*s);
            }
        if (const json::Value* v = root.find("fleet")) read_fleet(*v);
        if (const json::Value* v = root.find("latency")) read_latency(*v);
    }

private:
    std::string resolve(const std::string& path) const {
        std::filesystem::path p(path);
        if (p.is_absolute() || base_.empty()) return path;
        return (base_ / p).string();
    }

    std::optional<core::Endpoint> endpoint(const json::Value& value, std::string_view name) {
        const std::string* s = fields_.string(value, name);
        if (!s) return std::nullopt;
        auto parsed = core::Endpoint::parse(*s);
        if (!parsed)
            fields_.error(value.position, json::quote(*s) + " is not ADDRESS:PORT; write it as \"127.0.0.1:5353\" or "
                                                       "\"[::1]:5353\"");
        return parsed;
    }

    void read_listen(const json::Value& value) {
        auto list = json::entries(value);
        if (list.empty()) {
            fields_.error(value.position, "\"listen\" is empty; give at least one address, such as \"127.0.0.1:5353\"");
            return;
        }
        std::vector<core::Endpoint> endpoints;
        for (const json::Value& item : list) {
            auto e = endpoint(item, "a \"listen\" entry");
            if (!e) continue;
            auto same = [&](const core::Endpoint& o) { return o.address == e->address && o.port == e->port; };
            if (std::any_of(endpoints.begin(), endpoints.end(), same)) {
                fields_.error(item.position, json::quote(e->to_string()) + " is listed twice in \"listen\"; remove one");
                continue;
            }
            endpoints.push_back(*e);
        }
        config_.listen = std::move(endpoints);
    }

    void read_http(const json::Value& value) {
        if (value.kind == json::Kind::null || (value.kind == json::Kind::string && value.string.empty())) {
            config_.http.reset();
            return;
        }
        if (auto e = endpoint(value, "\"http\" (or \"\" to turn it off)")) config_.http = *e;
    }

    void read_tcp(const json::Value& value) {
        if (!fields_.is_object(value, "\"tcp\"")) return;
        fields_.known_keys(value, tcp_keys, "in \"tcp\"");
        if (const json::Value* v = value.find("idle_timeout"))
            if (auto ms = fields_.positive_seconds(*v, "\"idle_timeout\"", max_idle_timeout_s))
                config_.tcp_idle_timeout_ms = *ms;
        if (const json::Value* v = value.find("max_connections"))
            if (auto n = fields_.integer(*v, "\"max_connections\"", 1, json::max_int31))
                config_.tcp_max_connections = static_cast<uint32_t>(*n);
        if (const json::Value* v = value.find("max_connections_per_client"))
            if (auto n = fields_.integer(*v, "\"max_connections_per_client\"", 1, json::max_int31))
                config_.tcp_max_connections_per_client = static_cast<uint32_t>(*n);
    }

    void read_rrl(const json::Value& value) {
        if (!fields_.is_object(value, "\"rrl\"")) return;
        fields_.known_keys(value, rrl_keys, "in \"rrl\"");
        guard::RrlSettings rrl;
        if (const json::Value* v = value.find("responses_per_second"))
            if (auto n = fields_.integer(*v, "\"responses_per_second\"", 1, guard::max_responses_per_second))
                rrl.responses_per_second = static_cast<uint32_t>(*n);
        if (const json::Value* v = value.find("slip"))
            if (auto n = fields_.integer(*v, "\"slip\"", 0, guard::max_slip)) rrl.slip = static_cast<uint32_t>(*n);
        if (const json::Value* v = value.find("ipv4_prefix"))
            if (auto n = fields_.integer(*v, "\"ipv4_prefix\"", 1, 32)) rrl.ipv4_prefix = static_cast<uint8_t>(*n);
        if (const json::Value* v = value.find("ipv6_prefix"))
            if (auto n = fields_.integer(*v, "\"ipv6_prefix\"", 1, max_rrl_ipv6_prefix))
                rrl.ipv6_prefix = static_cast<uint8_t>(*n);
        if (const json::Value* v = value.find("exempt"))
            for (const json::Value& item : list(*v, "\"exempt\""))
                if (auto s = subnet(item)) rrl.exempt.push_back({s->network, s->prefix});
        config_.rrl = std::move(rrl);
    }

    std::optional<guard::CookieSecret> secret(const json::Value& value, std::string_view name) {
        const std::string* s = fields_.string(value, name);
        if (!s) return std::nullopt;
        auto parsed = guard::parse_secret(*s);
        if (!parsed)
            fields_.error(value.position, std::string(name) + " must be 32 hex digits (128 bits), such as "
                                          "\"e5e973e5a6b2a43f48e7dc849e37bfcf\"; make one with `openssl rand -hex 16`");
        return parsed;
    }

    void read_latency(const json::Value& value) {
        if (!fields_.object_of(value, latency_keys, "\"latency\"",
                               "an object such as { \"half_life\": 3600, \"min_samples\": 5, \"table\": \"latency.csv\" }",
                               "in \"latency\""))
            return;
        Latency& latency = config_.latency;
        if (const json::Value* v = value.find("half_life"))
            if (auto n = fields_.integer(*v, "\"half_life\"", 1, max_half_life_s))
                latency.half_life_s = static_cast<uint32_t>(*n);
        if (const json::Value* v = value.find("min_samples"))
            if (auto n = fields_.integer(*v, "\"min_samples\"", 1, max_min_samples))
                latency.min_samples = static_cast<uint32_t>(*n);
        if (const json::Value* v = value.find("table"))
            if (const std::string* s = fields_.string(*v, "\"table\"")) {
                if (s->empty())
                    fields_.error(v->position, "\"table\" is empty; name a file of prefix,region,rtt_ms lines, "
                                               "such as \"latency.csv\", or leave the key out");
                else
                    latency.table = resolve(*s);
            }
    }

    void read_fleet(const json::Value& value) {
        if (!fields_.object_of(value, fleet_keys, "\"fleet\"",
                               "an object such as { \"nats\": [\"nats://10.0.0.5:4222\"], \"node\": \"ns1\" }",
                               "in \"fleet\""))
            return;
        Fleet fleet;
        fleet.node = host_name();
        if (const json::Value* v = fields_.required(value, "nats", "\"fleet\"", "[\"nats://10.0.0.5:4222\"]")) {
            auto urls = json::entries(*v);
            if (urls.empty())
                fields_.error(v->position, "\"nats\" is empty; give at least one URL, such as \"nats://10.0.0.5:4222\"");
            for (const json::Value& item : urls)
                if (const std::string* s = fields_.string(item, "a \"nats\" URL")) {
                    if (s->starts_with("nats://") && s->size() > 7)
                        fleet.nats.push_back(*s);
                    else
                        fields_.error(item.position, json::quote(*s) + " is not a NATS URL; write it as "
                                                                   "\"nats://HOST:PORT\", such as \"nats://10.0.0.5:4222\"");
                }
        }
        if (const json::Value* v = value.find("node"))
            if (const std::string* s = fields_.string(*v, "\"node\"")) {
                if (valid_node_name(*s))
                    fleet.node = *s;
                else
                    fields_.error(v->position, json::quote(*s) + " is not a node name; use 1 to 64 letters, digits, "
                                                             "'.', '-' and '_', such as \"ns1-fra\"");
            }
        if (!valid_node_name(fleet.node))
            fields_.error(value.position, "the host name " + json::quote(fleet.node) +
                                              " is not a node name; give \"node\": a name such as \"ns1-fra\"");
        const json::Value* token = value.find("token");
        const json::Value* creds = value.find("creds");
        if (token && creds)
            fields_.error(creds->position, "give \"token\" or \"creds\", not both");
        else if (token) {
            if (const std::string* s = fields_.string(*token, "\"token\"")) fleet.token = *s;
        } else if (creds) {
            if (const std::string* s = fields_.string(*creds, "\"creds\"")) {
                if (s->empty())
                    fields_.error(creds->position, "\"creds\" is empty; name the NATS credentials file");
                else
                    fleet.creds = resolve(*s);
            }
        }
        if (const json::Value* v = value.find("health_quorum")) read_quorum(*v, fleet.health_quorum);
        if (const json::Value* v = value.find("stale_after"))
            if (auto n = fields_.integer(*v, "\"stale_after\"", 1, max_stale_after_s))
                fleet.stale_after_s = static_cast<uint32_t>(*n);
        if (const json::Value* v = value.find("zones"))
            if (const std::string* s = fields_.string(*v, "\"zones\" in \"fleet\"")) {
                if (auto i = json::index_of(fleet_zone_words, *s))
                    fleet.zones = static_cast<Fleet::Zones>(*i);
                else
                    fields_.error(v->position, "unknown \"zones\" " + json::quote(*s) + json::suggest(*s, fleet_zone_words));
            }
        config_.fleet = std::move(fleet);
    }

    void read_quorum(const json::Value& value, Quorum& quorum) {
        if (value.kind == json::Kind::string) {
            if (auto i = json::index_of(quorum_words, value.string))
                quorum = Quorum{static_cast<Quorum::Rule>(*i), 0};
            else
                fields_.error(value.position, "unknown \"health_quorum\" " + json::quote(value.string) +
                                                  json::suggest(value.string, quorum_words) + ", or a number of nodes");
            return;
        }
        if (value.kind != json::Kind::integer && value.kind != json::Kind::real) {
            fields_.error(value.position,
                          "\"health_quorum\" must be \"any\", \"majority\", \"all\" or a number of nodes, such as 2");
            return;
        }
        if (auto n = fields_.integer(value, "\"health_quorum\"", 1, max_quorum))
            quorum = Quorum{Quorum::Rule::at_least, static_cast<uint32_t>(*n)};
    }

    static bool valid_node_name(std::string_view name) {
        return !name.empty() && name.size() <= max_node_name && std::all_of(name.begin(), name.end(), [](char c) {
                   return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                          c == '-' || c == '_';
               });
    }

    static std::string host_name() {
        char name[256] = {};
        if (gethostname(name, sizeof name - 1) != 0) return "";
        return name;
    }

    // A database named here must open at start-up; "" means none. Field paths
    // not given are GeoIP2's, so that naming a GeoIP2/GeoLite2 file is one line.
    void read_geoip(const json::Value& value) {
        config_.geoip_fields = GeoipFields{};
        if (value.kind == json::Kind::string) {
            set_geoip_path(value.string);
            return;
        }
        if (!fields_.expect(value, json::Kind::object, "\"geoip\"",
                            "a path to the database, or an object { \"path\": ..., \"country\": ... }"))
            return;
        fields_.known_keys(value, geoip_keys, "in \"geoip\"");
        if (const json::Value* v = value.find("path"))
            if (const std::string* s = fields_.string(*v, "\"path\"")) set_geoip_path(*s);
        struct Field {
            std::string_view key;
            std::vector<std::string> GeoipFields::*member;
        };
        for (const Field& f : {Field{"country", &GeoipFields::country}, Field{"continent", &GeoipFields::continent},
                               Field{"latitude", &GeoipFields::latitude}, Field{"longitude", &GeoipFields::longitude}})
            if (const json::Value* v = value.find(f.key))
                if (auto path = lookup_path(*v, f.key)) config_.geoip_fields.*f.member = std::move(*path);
    }

    void set_geoip_path(const std::string& path) {
        config_.geoip_path = path.empty() ? "" : resolve(path);
        config_.geoip_named = !path.empty();
    }

    // "country.iso_code" or ["country", "iso_code"].
    std::optional<std::vector<std::string>> lookup_path(const json::Value& value, std::string_view key) {
        std::vector<std::string> parts;
        bool ok = true;
        if (value.kind == json::Kind::string) {
            std::string_view rest = value.string;
            while (true) {
                auto dot = rest.find('.');
                parts.emplace_back(rest.substr(0, dot));
                if (dot == std::string_view::npos) break;
                rest = rest.substr(dot + 1);
            }
        } else if (value.kind == json::Kind::array) {
            for (const json::Value& item : value.items) {
                if (item.kind != json::Kind::string) ok = false;
                parts.push_back(item.string);
            }
        } else {
            ok = false;
        }
        bool has_empty = std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
        if (!ok || parts.empty() || has_empty) {
            fields_.error(value.position, json::quote(key) + " must be a path into the database's records, such as "
                                                        "\"country.iso_code\" or [\"country\", \"iso_code\"]");
            return std::nullopt;
        }
        return parts;
    }

    void read_regions(const json::Value& value) {
        // The file's regions replace the default ones, default_region with them.
        config_.regions.clear();
        config_.default_region.clear();
        if (!fields_.is_object(value, "\"regions\"")) return;
        // Every name first, so that a fallback may name a region defined after it.
        for (const auto& member : value.members) {
            Region region;
            region.name = member.key;
            if (member.key.empty()) fields_.error(member.key_position, "a region needs a name; write \"eu\": { ... }");
            config_.regions.push_back(std::move(region));
        }
        for (size_t i = 0; i < value.members.size(); ++i) read_region(config_.regions[i], value.members[i]);
    }

    void read_region(Region& region, const json::Member& member) {
        const json::Value& body = member.value;
        if (!fields_.is_object(body, "region " + json::quote(region.name))) return;
        fields_.known_keys(body, region_keys, "in region " + json::quote(region.name));
        if (const json::Value* v = body.find("continents"))
            for (const json::Value& item : list(*v, "\"continents\"")) {
                const std::string* s = fields_.string(item, "a continent");
                if (!s) continue;
                if (std::find(std::begin(continent_codes), std::end(continent_codes), *s) == std::end(continent_codes))
                    fields_.error(item.position, json::quote(*s) + " is not a continent code" +
                                                     json::suggest(*s, continent_codes));
                else
                    region.continents.push_back(*s);
            }
        if (const json::Value* v = body.find("countries"))
            for (const json::Value& item : list(*v, "\"countries\"")) {
                const std::string* s = fields_.string(item, "a country");
                if (!s) continue;
                bool code = s->size() == 2 && std::all_of(s->begin(), s->end(), [](char c) { return c >= 'A' && c <= 'Z'; });
                if (!code)
                    fields_.error(item.position, json::quote(*s) + " is not a country code; use two upper-case letters "
                                                              "(ISO 3166-1 alpha-2), such as \"DE\"");
                else
                    region.countries.push_back(*s);
            }
        if (const json::Value* v = body.find("subnets"))
            for (const json::Value& item : list(*v, "\"subnets\""))
                if (auto subnet = read_subnet(item)) region.subnets.push_back(*subnet);
        if (const json::Value* v = body.find("location")) read_location(region, *v);
        if (const json::Value* v = body.find("fallback"))
            for (const json::Value& item : list(*v, "\"fallback\"")) {
                const std::string* s = fields_.string(item, "a fallback region");
                if (!s) continue;
                if (*s == region.name)
                    fields_.error(item.position, "region " + json::quote(*s) + " cannot fall back to itself; remove it");
                else if (config_.region_index(*s) < 0)
                    undefined_region(item, *s, "fallback");
                else if (std::find(region.fallback.begin(), region.fallback.end(), *s) != region.fallback.end())
                    fields_.error(item.position, "region " + json::quote(*s) + " is listed twice in \"fallback\"; remove one");
                else
                    region.fallback.push_back(*s);
            }
    }

    std::span<const json::Value> list(const json::Value& value, std::string_view name) {
        if (!fields_.expect(value, json::Kind::array, name, "a list [ ... ]")) return {};
        return value.items;
    }

    // A region's subnet: one no other region has.
    std::optional<Subnet> read_subnet(const json::Value& item) {
        std::optional<Subnet> found = subnet(item);
        if (!found) return std::nullopt;
        for (const auto& other : config_.regions)
            for (const auto& taken : other.subnets)
                if (taken.network == found->network && taken.prefix == found->prefix) {
                    fields_.error(item.position, json::quote(item.string) + " is already in region " +
                                                     json::quote(other.name) + "; a subnet belongs to one region");
                    return std::nullopt;
                }
        return found;
    }

    std::optional<Subnet> subnet(const json::Value& item) {
        const std::string* s = fields_.string(item, "a subnet");
        if (!s) return std::nullopt;
        constexpr std::string_view how = "; write it as ADDRESS/PREFIX, such as \"10.0.0.0/8\" or \"fd00::/8\"";
        auto slash = s->find('/');
        std::optional<core::Address> address;
        unsigned prefix = 0;
        if (slash != std::string::npos) {
            address = core::Address::parse(std::string_view(*s).substr(0, slash));
            const char* first = s->data() + slash + 1;
            const char* last = s->data() + s->size();
            auto [end, ec] = std::from_chars(first, last, prefix);
            if (first == last || ec != std::errc{} || end != last) address.reset();
        }
        if (!address) {
            fields_.error(item.position, json::quote(*s) + " is not a subnet" + std::string(how));
            return std::nullopt;
        }
        if (prefix > address->max_prefix()) {
            fields_.error(item.position, "prefix /" + std::to_string(prefix) + " in " + json::quote(*s) + " is longer than " +
                                             std::to_string(address->max_prefix()) + " bits; shorten it");
            return std::nullopt;
        }
        core::Address network = address->masked(prefix);
        if (!(network == *address)) {
            fields_.error(item.position, json::quote(*s) + " has bits set past the prefix; write \"" +
                                             network.to_string() + "/" + std::to_string(prefix) + "\"");
            return std::nullopt;
        }
        return Subnet{network, static_cast<uint8_t>(prefix)};
    }

    void read_location(Region& region, const json::Value& value) {
        if (value.kind != json::Kind::array || value.items.size() != 2) {
            fields_.error(value.position, "\"location\" must be [latitude, longitude] in degrees, such as [50.11, 8.68]");
            return;
        }
        auto latitude = fields_.number(value.items[0], "the latitude", -90, 90);
        auto longitude = fields_.number(value.items[1], "the longitude", -180, 180);
        if (latitude && longitude) region.location = std::pair{*latitude, *longitude};
    }

    void undefined_region(const json::Value& at, const std::string& name, std::string_view field) {
        if (config_.regions.empty()) {
            fields_.error(at.position, std::string(field) + " names region " + json::quote(name) +
                                           ", but no \"regions\" are defined; define it or remove " + std::string(field));
            return;
        }
        fields_.error(at.position, std::string(field) + " names region " + json::quote(name) + ", which is not defined" +
                                       json::suggest(name, config_.region_names()));
    }

    Config& config_;
    Fields& fields_;
    std::filesystem::path base_;
};

}  // namespace

std::optional<Config> load_text(std::string text, const std::string& file, core::Diagnostics& diagnostics) {
    core::Diagnostics found;
    const json::Text json_text(std::move(text), file);
    const auto root = json::parse(json_text, found);
    Config config = defaults();
    config.file = file;
    if (root) {
        Fields fields(json_text, found);
        ConfigReader(config, fields, std::filesystem::path(file).parent_path()).read(*root);
    }
    std::stable_sort(found.begin(), found.end(), [](const core::Diagnostic& a, const core::Diagnostic& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    diagnostics.insert(diagnostics.end(), found.begin(), found.end());
    if (!found.empty()) return std::nullopt;
    return config;
}

std::optional<Config> load_file(const std::string& path, core::Diagnostics& diagnostics) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        diagnostics.push_back({path, 0, 0, "cannot read the config file: " + std::string(std::strerror(errno))});
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return load_text(text.str(), path, diagnostics);
}

}  // namespace dnsd::config
