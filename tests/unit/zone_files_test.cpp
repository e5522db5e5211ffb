// control::ZoneFiles: the zones directory read again file by file, as a reload
// does it. Per-zone isolation, reuse of unchanged zones, "auto" serials, and
// files that come, go, break or clash.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "dnsd/control/zone_files.hpp"

namespace fs = std::filesystem;
using namespace dnsd;

namespace {

struct Directory {
    fs::path path;
    explicit Directory(const std::string& label) {
        path = fs::temp_directory_path() / ("dnsd-zone-files-test-" + std::to_string(::getpid()) + "-" + label);
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~Directory() { fs::remove_all(path); }
    std::string file(const std::string& name) const { return (path / name).string(); }
    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary | std::ios::trunc) << text;
    }
    // Sets the file's modification time to `seconds` since the epoch.
    void set_mtime(const std::string& name, time_t seconds) const {
        const timespec times[2] = {{seconds, 0}, {seconds, 0}};
        REQUIRE(::utimensat(AT_FDCWD, file(name).c_str(), times, 0) == 0);
    }
};

std::string zone_text(const std::string& name, const std::string& address, const std::string& serial = "\"auto\"") {
    return "{\"zone\": \"" + name + "\", \"soa\": {\"mname\": \"ns1\", \"rname\": \"hostmaster." + name +
           ".\", \"serial\": " + serial + "}, \"records\": {\"@\": {\"NS\": [\"ns1\"]}, \"ns1\": {\"A\": [\"" +
           address + "\"]}}}\n";
}

control::Rescan rescan(const control::ZoneFiles& files, const Directory& dir) {
    return files.rescan(dir.path.string(), config::defaults(), std::chrono::system_clock::now());
}

std::shared_ptr<const zone::Zone> zone_named(const control::ZoneFiles& files, const std::string& name) {
    for (const auto& zone : files.snapshot()->zones)
        if (zone->name == name) return zone;
    return nullptr;
}

std::string all(const dnsd::core::Diagnostics& diagnostics) {
    std::string out;
    for (const auto& d : diagnostics) out += d.to_string() + "\n";
    return out;
}

}  // namespace

TEST_CASE("zone files: the first rescan loads every file with the modification time as the auto serial") {
    Directory dir("first");
    dir.write("a.test.json", zone_text("a.test", "192.0.2.1"));
    dir.write("b.test.json", zone_text("b.test", "192.0.2.2", "7"));
    dir.write(".a.test.json.swp", "editor scratch");
    dir.set_mtime("a.test.json", 1'700'000'000);
    control::Rescan first = rescan(control::ZoneFiles{}, dir);
    INFO(all(first.found));
    CHECK(first.found.empty());
    REQUIRE(first.files.files().size() == 2);
    REQUIRE(first.files.snapshot()->zones.size() == 2);
    CHECK(zone_named(first.files, "a.test")->serial == 1'700'000'000);
    CHECK(zone_named(first.files, "b.test")->serial == 7);
    REQUIRE(first.changes.size() == 2);
    CHECK(first.changes[0].zone == "a.test");
    CHECK_FALSE(first.changes[0].serial_before);
    CHECK(first.changes[0].serial_after == 1'700'000'000u);
}

TEST_CASE("zone files: an unchanged file keeps its Zone and a changed one gets a new one with a higher serial") {
    Directory dir("reuse");
    dir.write("a.test.json", zone_text("a.test", "192.0.2.1"));
    dir.write("b.test.json", zone_text("b.test", "192.0.2.2"));
    dir.set_mtime("a.test.json", 1'700'000'000);
    control::Rescan first = rescan(control::ZoneFiles{}, dir);
    const auto a = zone_named(first.files, "a.test");
    const auto b = zone_named(first.files, "b.test");

    SECTION("nothing changed, not even by a new modification time") {
        dir.set_mtime("a.test.json", 1'800'000'000);
        control::Rescan second = rescan(first.files, dir);
        CHECK_FALSE(second.changed());
        CHECK(zone_named(second.files, "a.test") == a);
        CHECK(zone_named(second.files, "b.test") == b);
    }
    SECTION("an edit within the same second still raises the serial") {
        dir.write("a.test.json", zone_text("a.test", "192.0.2.9"));
        dir.set_mtime("a.test.json", 1'700'000'000);
        control::Rescan second = rescan(first.files, dir);
        REQUIRE(second.changes.size() == 1);
        CHECK(second.changes[0].zone == "a.test");
        CHECK(second.changes[0].serial_before == 1'700'000'000u);
        CHECK(second.changes[0].serial_after == 1'700'000'001u);
        CHECK(zone_named(second.files, "b.test") == b);

        // A file restored with an older time: still higher.
        dir.write("a.test.json", zone_text("a.test", "192.0.2.1"));
        dir.set_mtime("a.test.json", 1'600'000'000);
        control::Rescan third = rescan(second.files, dir);
        CHECK(zone_named(third.files, "a.test")->serial == 1'700'000'002);
    }
    SECTION("a later edit takes its modification time") {
        dir.write("a.test.json", zone_text("a.test", "192.0.2.9"));
        dir.set_mtime("a.test.json", 1'750'000'000);
        control::Rescan second = rescan(first.files, dir);
        CHECK(zone_named(second.files, "a.test")->serial == 1'750'000'000);
    }
}

TEST_CASE("zone files: a broken file keeps its previous version while the others reload") {
    Directory dir("broken");
    dir.write("a.test.json", zone_text("a.test", "192.0.2.1"));
    dir.write("b.test.json", zone_text("b.test", "192.0.2.2"));
    control::Rescan first = rescan(control::ZoneFiles{}, dir);
    const auto a = zone_named(first.files, "a.test");

    dir.write("a.test.json", "{\"zone\": \"a.test\",\n  \"soa\": ");
    dir.write("b.test.json", zone_text("b.test", "192.0.2.3"));
    control::Rescan second = rescan(first.files, dir);
    REQUIRE(second.found.size() == 1);
    CHECK(second.found[0].file == dir.file("a.test.json"));
    CHECK(second.found[0].line == 2);
    CHECK(second.found[0].to_string().find("malformed JSON") != std::string::npos);
    CHECK(zone_named(second.files, "a.test") == a);
    REQUIRE(second.changes.size() == 1);
    CHECK(second.changes[0].zone == "b.test");
    REQUIRE(second.files.problems().size() == 1);
    const auto status = second.files.status();
    REQUIRE(status.size() == 2);
    CHECK(status[0].zone == "a.test");
    CHECK(status[0].serial == a->serial);
    REQUIRE(status[0].errors.size() == 1);
    CHECK(status[0].errors[0].rfind(dir.file("a.test.json") + ":2:", 0) == 0);
    CHECK(status[1].errors.empty());

    // Unchanged and still broken: not found again, but still a problem.
    control::Rescan third = rescan(second.files, dir);
    CHECK(third.found.empty());
    CHECK(third.still_invalid == std::vector<std::string>{dir.file("a.test.json")});
    CHECK(third.files.problems().size() == 1);
    CHECK(zone_named(third.files, "a.test") == a);

    // Fixed: served again, above the serial that kept serving.
    dir.write("a.test.json", zone_text("a.test", "192.0.2.4"));
    control::Rescan fourth = rescan(third.files, dir);
    CHECK(fourth.found.empty());
    CHECK(fourth.files.problems().empty());
    REQUIRE(zone_named(fourth.files, "a.test"));
    CHECK(zone_named(fourth.files, "a.test") != a);
    CHECK(zone_named(fourth.files, "a.test")->serial > a->serial);
}

TEST_CASE("zone files: a file that never loaded serves nothing and files that come and go add and remove zones") {
    Directory dir("come-and-go");
    dir.write("a.test.json", zone_text("a.test", "192.0.2.1"));
    control::Rescan first = rescan(control::ZoneFiles{}, dir);

    dir.write("b.test.json", zone_text("b.test", "not an address"));
    control::Rescan second = rescan(first.files, dir);
    CHECK(second.found.size() == 1);
    CHECK_FALSE(second.changed());
    CHECK_FALSE(zone_named(second.files, "b.test"));
    REQUIRE(second.files.status().size() == 2);
    CHECK_FALSE(second.files.status()[1].serial);

    dir.write("b.test.json", zone_text("b.test", "192.0.2.2"));
    control::Rescan third = rescan(second.files, dir);
    REQUIRE(third.changes.size() == 1);
    CHECK_FALSE(third.changes[0].serial_before);
    CHECK(zone_named(third.files, "b.test"));

    fs::remove(dir.path / "a.test.json");
    control::Rescan fourth = rescan(third.files, dir);
    REQUIRE(fourth.changes.size() == 1);
    CHECK(fourth.changes[0].zone == "a.test");
    CHECK_FALSE(fourth.changes[0].serial_after);
    CHECK_FALSE(zone_named(fourth.files, "a.test"));
    CHECK(fourth.files.files().size() == 1);
}

TEST_CASE("zone files: a directory that cannot be read keeps every zone") {
    Directory dir("gone");
    dir.write("a.test.json", zone_text("a.test", "192.0.2.1"));
    control::Rescan first = rescan(control::ZoneFiles{}, dir);
    const auto a = zone_named(first.files, "a.test");

    const control::Rescan second =
        first.files.rescan((dir.path / "missing").string(), config::defaults(), std::chrono::system_clock::now());
    REQUIRE(second.found.size() == 1);
    CHECK(second.found[0].message.find("cannot read the zones directory") != std::string::npos);
    CHECK_FALSE(second.changed());
    CHECK(zone_named(second.files, "a.test") == a);
    CHECK(second.files.problems().size() == 1);
}

TEST_CASE("zone files: a file named after another zone or a second file for one zone is refused") {
    Directory dir("clash");
    dir.write("a.test.json", zone_text("a.test", "192.0.2.1"));
    control::Rescan first = rescan(control::ZoneFiles{}, dir);
    const auto a = zone_named(first.files, "a.test");

    dir.write("A.Test.json", zone_text("a.test", "192.0.2.2"));
    dir.write("c.test.json", zone_text("d.test", "192.0.2.3"));
    control::Rescan second = rescan(first.files, dir);
    INFO(all(second.found));
    REQUIRE(second.found.size() == 2);
    CHECK(second.found[0].message.find("is also defined by") != std::string::npos);
    CHECK(second.found[1].message.find("rename the file") != std::string::npos);
    // "A.Test.json" sorts first and claims the zone, as it would at start-up.
    REQUIRE(zone_named(second.files, "a.test"));
    CHECK(zone_named(second.files, "a.test") != a);
    CHECK(second.files.snapshot()->zones.size() == 1);
    CHECK_FALSE(zone_named(second.files, "d.test"));
}
