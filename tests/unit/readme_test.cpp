// Every config example in README.md loads: the page a newcomer reads first
// must not drift from what dnsd accepts.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dnsd/config/config.hpp"

namespace {

std::vector<std::string> json_blocks(const std::string& text) {
    std::vector<std::string> blocks;
    const std::string open = "```json\n", close = "```";
    for (size_t at = text.find(open); at != std::string::npos; at = text.find(open, at)) {
        const size_t start = at + open.size();
        const size_t end = text.find(close, start);
        REQUIRE(end != std::string::npos);
        blocks.push_back(text.substr(start, end - start));
        at = end + close.size();
    }
    return blocks;
}

}  // namespace

TEST_CASE("readme: every config example in README.md loads", "[readme]") {
    std::ifstream in(std::string(DNSD_SOURCE_DIR) + "/README.md");
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    const auto blocks = json_blocks(text.str());
    REQUIRE_FALSE(blocks.empty());
    const auto dir = std::filesystem::temp_directory_path() / ("dnsd-readme-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    for (size_t i = 0; i < blocks.size(); ++i) {
        const auto path = (dir / ("example-" + std::to_string(i) + ".json")).string();
        std::ofstream(path) << blocks[i];
        dnsd::core::Diagnostics diagnostics;
        const auto config = dnsd::config::load_file(path, diagnostics);
        std::string problems;
        for (const auto& d : diagnostics) problems += d.to_string() + "\n";
        INFO("README.md json block " << i + 1 << ":\n" << blocks[i] << problems);
        CHECK(config);
        CHECK(diagnostics.empty());
    }
    std::filesystem::remove_all(dir);
}
