// The bytes as a DNS query through answer::respond(), against the demo zone
// with the shipped GeoIP database and the default regions. The low bits of the
// query ID choose the transport, the client address and the view, so that a
// corpus file stays a plain DNS message.
#include <array>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "dnsd/answer/respond.hpp"
#include "dnsd/config/config.hpp"
#include "dnsd/wire/query.hpp"
#include "dnsd/zone/load.hpp"
#include "fuzz.hpp"
#include "packet.hpp"

using namespace dnsd;

namespace {

// Clients the shipped database places in eu, us and ap, and an IPv6 one.
const std::array<core::Address, 4> sources = {*core::Address::parse("193.0.6.139"), *core::Address::parse("8.8.8.8"),
                                              *core::Address::parse("1.1.1.1"), *core::Address::parse("2001:db8::1")};
// The server as configured by default, and one with NSID, without ECS and
// with every other probed member down.
std::array<answer::View, 2> views;
std::vector<uint8_t> out(65535);
// Cookies answered with a fixed secret at a fixed time, so that an input
// answers the same way every time it runs (the RFC 9018 example's).
const guard::CookieSecrets cookie_secrets{*guard::parse_secret("e5e973e5a6b2a43f48e7dc849e37bfcf"), std::nullopt};
constexpr uint32_t now_s = 1559731985;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    config::Config config = config::defaults();
    config.geoip_path = DNSD_SOURCE_DIR "/geoip/country.mmdb";
    const std::string path = DNSD_SOURCE_DIR "/zones/demo.example.json";
    std::ifstream in(path, std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    core::Diagnostics diagnostics;
    auto zone = zone::load_zone(text, path, config.region_names(), diagnostics);
    std::string error;
    auto geo = geo::Geo::load(config, error);
    fuzz::require(zone && geo, "the demo zone and the GeoIP database load");

    auto snapshot = std::make_shared<zone::Snapshot>(std::vector<std::shared_ptr<const zone::Zone>>{zone});
    auto health = std::make_shared<health::HealthView>();
    health::ZoneHealth zone_health;
    for (size_t slot = 0; slot < zone->probe_targets.size(); ++slot) zone_health.up.push_back(slot % 2);
    health->add(zone, std::move(zone_health));

    views[0] = {snapshot, nullptr, geo, nullptr, {config.udp_payload, "", true}};
    views[1] = {snapshot, health, geo, nullptr, {4096, "fuzz", false}};
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> packet(data, size);
    const uint8_t choice = size >= 2 ? data[1] : 0;
    const auto transport = choice & 1 ? answer::Transport::tcp : answer::Transport::udp;
    const answer::View& view = views[choice >> 3 & 1];
    // Fresh rotation counters and random state: an input answers the same way every time it runs.
    answer::WorkerState state;
    state.prepare(view);
    state.cookies = &cookie_secrets;
    const answer::Outcome outcome =
        answer::respond({packet, sources[choice >> 1 & 3], transport, now_s}, view, state, out);
    if (outcome.size == 0) return 0;

    // UDP: the client's EDNS payload or 512, never less than 512, never more than ours.
    wire::Query query;
    wire::parse_query(packet, query);
    const size_t limit = transport == answer::Transport::tcp ? 65535
                         : query.has_edns ? std::max<size_t>(512, std::min(query.edns.payload, view.options.udp_payload))
                                          : 512;
    fuzz::require(outcome.size <= limit, "the response fits the transport's limit");
    const test::Decoded decoded = test::decode({out.data(), outcome.size});
    if (!decoded.ok) std::fprintf(stderr, "response does not decode: %s\n", decoded.error.c_str());
    fuzz::require(decoded.ok, "the response decodes");
    fuzz::require(decoded.id == (data[0] << 8 | data[1]), "the response has the query's ID");
    fuzz::require(decoded.rcode == outcome.rcode && decoded.tc == outcome.truncated,
                  "the outcome describes the response");
    return 0;
}
