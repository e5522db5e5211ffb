// The state directory (SPEC §2 state_dir): overrides.json written atomically
// and read back, and every way a file can be bad giving one warning and no
// state rather than a failure.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <set>

#include "dnsd/control/state_store.hpp"
#include "dnsd/core/atomic_file.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace dnsd;
using health::Override;
using test::read_text;
using test::TempDir;
using zone::MemberState;

namespace {

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
    return names;
}

const std::vector<Override> two{{"svc.example.com", "web", *core::Address::parse("192.0.2.10"), MemberState::down},
                                {"svc.example.com", "web", *core::Address::parse("2001:db8::10"), MemberState::up}};

// What load_overrides gives for a file with `text`, and its warning.
std::pair<std::vector<Override>, std::string> load_text(const std::string& text) {
    TempDir dir("load");
    const control::StateStore store(dir.path());
    dir.write("overrides.json", text);
    std::string warning;
    auto overrides = store.load_overrides(warning);
    // The path is the temporary directory's; the rest is what the test is about.
    const std::string prefix = store.overrides_path().string();
    if (warning.starts_with(prefix)) warning = "overrides.json" + warning.substr(prefix.size());
    return {overrides, warning};
}

}  // namespace

TEST_CASE("state store: overrides round-trip through overrides.json", "[state]") {
    TempDir dir("round-trip");
    const control::StateStore store(dir.path() / "state");
    std::string warning;
    REQUIRE(store.prepare(warning));
    CHECK(warning.empty());
    CHECK(fs::is_directory(dir.path() / "state"));
    // No file yet: no state, no warning.
    CHECK(store.load_overrides(warning).empty());
    CHECK(warning.empty());

    std::string error;
    REQUIRE(store.save_overrides(two, error));
    CHECK(store.load_overrides(warning) == two);
    CHECK(warning.empty());
    CHECK(read_text(store.overrides_path()) == R"({
  "version": 1,
  "overrides": [
    {
      "zone": "svc.example.com",
      "pool": "web",
      "address": "192.0.2.10",
      "state": "down"
    },
    {
      "zone": "svc.example.com",
      "pool": "web",
      "address": "2001:db8::10",
      "state": "up"
    }
  ]
}
)");
    // Replaced whole, down to none.
    REQUIRE(store.save_overrides(std::vector<Override>{two[1]}, error));
    CHECK(store.load_overrides(warning) == std::vector<Override>{two[1]});
    REQUIRE(store.save_overrides({}, error));
    CHECK(store.load_overrides(warning).empty());
    CHECK(warning.empty());
    CHECK(names_in(dir.path() / "state") == std::set<std::string>{"overrides.json"});
}

TEST_CASE("state store: a corrupt, truncated or unreadable file is one warning and no state", "[state]") {
    SECTION("not JSON") {
        auto [overrides, warning] = load_text("{ \"version\": 1, \"overrides\": [ nope ] }");
        CHECK(overrides.empty());
        CHECK(warning.starts_with("overrides.json:1:33: "));
        CHECK(warning.ends_with("; starting without the overrides kept there"));
    }
    SECTION("truncated") {
        TempDir dir("truncated");
        const control::StateStore store(dir.path());
        std::string error, warning;
        REQUIRE(store.save_overrides(two, error));
        const std::string whole = read_text(store.overrides_path());
        dir.write("overrides.json", whole.substr(0, whole.size() / 2));
        CHECK(store.load_overrides(warning).empty());
        INFO(warning);
        CHECK(warning.starts_with(store.overrides_path().string() + ":8:15: malformed JSON: "));
        // Cut to nothing.
        dir.write("overrides.json", "");
        CHECK(store.load_overrides(warning).empty());
        CHECK(warning.starts_with(store.overrides_path().string() + ":1:1: "));
    }
    SECTION("valid JSON, not overrides") {
        CHECK(load_text("[]").second ==
              "overrides.json:1:1: the overrides file must be an object { ... }, not a list; starting without the "
              "overrides kept there");
        CHECK(load_text(R"({ "overrides": [] })").second.starts_with(
            "overrides.json:1:1: the overrides file needs \"version\""));
        CHECK(load_text(R"({ "version": 2, "overrides": [] })").second ==
              "overrides.json:1:14: version 2 was written by a newer dnsd; this one reads version 1; starting "
              "without the overrides kept there");
    }
    SECTION("one bad entry costs the file, and the warning counts the rest") {
        auto [overrides, warning] = load_text(R"({ "version": 1, "overrides": [
  { "zone": "a.example", "pool": "web", "address": "192.0.2.1", "state": "down" },
  { "zone": "a.example", "pool": "web", "address": "192.0.2.300", "state": "down" },
  { "zone": "a.example", "pool": "web", "address": "192.0.2.2", "state": "auto" },
  { "zone": "a.example", "pool": "web", "address": "192.0.2.1", "state": "up", "colour": "red" }
] })");
        CHECK(overrides.empty());
        CHECK(warning ==
              "overrides.json:3:52: \"192.0.2.300\" is not an IP address (and 3 more problems); starting without "
              "the overrides kept there");
    }
    SECTION("not a file") {
        TempDir dir("not-a-file");
        const control::StateStore store(dir.path());
        fs::create_directories(store.overrides_path());
        std::string warning;
        CHECK(store.load_overrides(warning).empty());
        CHECK(warning == store.overrides_path().string() +
                             ": cannot read: Is a directory; starting without the overrides kept there");
    }
}

TEST_CASE("state store: a directory that cannot be made or written is a warning", "[state]") {
    TempDir dir("cannot-make");
    dir.write("file", "");
    const control::StateStore store(dir.path() / "file" / "state");
    std::string warning, error;
    CHECK_FALSE(store.prepare(warning));
    CHECK(warning.starts_with((dir.path() / "file" / "state").string() + ": cannot create the state directory: "));
    CHECK(warning.ends_with("; overrides set from now on will not survive a restart"));
    CHECK_FALSE(store.save_overrides(two, error));
    CHECK(error.starts_with(store.overrides_path().string() + ": cannot create a temporary file beside it: "));
}

TEST_CASE("atomic write: the file is replaced whole, and no temporary file is left", "[state]") {
    TempDir dir("atomic");
    const fs::path target = dir.path() / "kept.json";
    std::string error;
    for (int i = 0; i < 5; ++i) {
        REQUIRE(core::write_file_atomically(target, "version " + std::to_string(i) + "\n", error));
        CHECK(read_text(target) == "version " + std::to_string(i) + "\n");
    }
    CHECK(names_in(dir.path()) == std::set<std::string>{"kept.json"});

    // A rename that fails (the target is a directory with something in it)
    // leaves the target as it was, and no temporary file.
    const fs::path taken = dir.path() / "taken";
    fs::create_directories(taken / "inside");
    CHECK_FALSE(core::write_file_atomically(taken, "new", error));
    CHECK(error.starts_with(taken.string() + ": cannot replace it: "));
    CHECK(fs::is_directory(taken / "inside"));
    CHECK(names_in(dir.path()) == std::set<std::string>{"kept.json", "taken"});
}

TEST_CASE("StateStore: registrations are kept with the absolute end of their lease", "[state][registrations]") {
    TempDir dir("registrations");
    const control::StateStore store(dir.path());
    const auto end = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
    const std::vector<control::Registration> kept{
        {"svc.example.com", "web", *core::Address::parse("192.0.2.40"), "eu", 2, 8080, end},
        {"svc.example.com", "web", *core::Address::parse("2001:db8::40"), "", 1, 0, end + std::chrono::seconds(1)}};
    std::string error;
    REQUIRE(store.save_registrations(kept, error));
    std::string warning;
    CHECK(store.load_registrations(warning) == kept);
    CHECK(warning.empty());

    dir.write("registrations.json", R"({"version": 1, "registrations": [{"zone": "a", "pool": "p", "address": "x"}]})");
    CHECK(store.load_registrations(warning).empty());
    CHECK(warning.find("registrations.json:1:") != std::string::npos);
    CHECK(warning.find("starting without the registrations kept there") != std::string::npos);
}
