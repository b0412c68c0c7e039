// SVG charts (io/svg_chart.hpp) and reading logs back (io/training_log.hpp): the SVG is
// well-formed XML, escapes text, and encodes exactly the values it was given.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <seqrec/io/svg_chart.hpp>
#include <seqrec/io/training_log.hpp>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

using namespace seqrec;

namespace {

/// A small XML well-formedness check: every tag closes in order, attributes are quoted, text has
/// no raw '<' or '&' outside entities. Enough for what svg_line_chart writes.
bool well_formed(const std::string& xml, std::string& why) {
    std::vector<std::string> open;
    std::size_t i = 0;
    if (xml.rfind("<?xml", 0) == 0) i = xml.find("?>") + 2;
    while (i < xml.size()) {
        if (xml[i] != '<') {
            const std::size_t next = std::min(xml.find('<', i), xml.size());
            const std::string text = xml.substr(i, next - i);
            for (std::size_t a = text.find('&'); a != std::string::npos; a = text.find('&', a + 1))
                if (text.find(';', a) == std::string::npos) return why = "bare &", false;
            i = next;
            continue;
        }
        const std::size_t end = xml.find('>', i);
        if (end == std::string::npos) return why = "unclosed tag", false;
        std::string tag = xml.substr(i + 1, end - i - 1);
        i = end + 1;
        if (std::count(tag.begin(), tag.end(), '"') % 2) return why = "unquoted: " + tag, false;
        if (tag[0] == '/') {
            if (open.empty() || open.back() != tag.substr(1)) return why = "mismatch " + tag, false;
            open.pop_back();
        } else if (tag.back() != '/') {
            open.push_back(tag.substr(0, tag.find(' ')));
        }
    }
    if (!open.empty()) return why = "unclosed " + open.back(), false;
    return true;
}

/// Every series' points as written: label -> [(x, y, cy)].
struct Point {
    double x, y, cy;
};
std::map<std::string, std::vector<Point>> points_of(const std::string& svg) {
    std::map<std::string, std::vector<Point>> out;
    std::size_t g = 0;
    while ((g = svg.find("<g class=\"series\" data-label=\"", g)) != std::string::npos) {
        g += 30;
        const std::string label = svg.substr(g, svg.find('"', g) - g);
        const std::size_t end = svg.find("</g>", g);
        for (std::size_t c = svg.find("<circle", g); c < end; c = svg.find("<circle", c + 1)) {
            const std::size_t cy = svg.find("cy=\"", c) + 4, t = svg.find("<title>", c) + 7;
            Point p{};
            p.cy = std::stod(svg.substr(cy));
            std::sscanf(svg.c_str() + t, "%lf %lf", &p.x, &p.y);
            out[label].push_back(p);
        }
    }
    return out;
}

}  // namespace

TEST_CASE("svg_line_chart writes well-formed SVG that encodes its values exactly") {
    ChartSeries a{"run <a&b>", {1, 2, 3, 4}, {0.5, 0.25, 0.125, 0.1 + 0.2}};
    ChartSeries b{"run 'b'", {1, 2, 3}, {0.7, std::nan(""), 0.9}};
    const std::string svg = svg_line_chart(
        {{"loss", "epoch", "loss", {a, b}}, {"valid \"NDCG@10\"", "epoch", "NDCG@10", {b}}});
    std::string why;
    CHECK_MESSAGE(well_formed(svg, why), why);
    CHECK(svg.find("run &lt;a&amp;b&gt;") != std::string::npos);
    CHECK(svg.find("run <a&b>") == std::string::npos);
    CHECK(svg.find("valid &quot;NDCG@10&quot;") != std::string::npos);
    const auto pts = points_of(svg);
    REQUIRE(pts.count("run &lt;a&amp;b&gt;") == 1);
    const auto& pa = pts.at("run &lt;a&amp;b&gt;");
    REQUIRE(pa.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
        CHECK(pa[i].x == a.x[i]);
        CHECK(pa[i].y == a.y[i]);  // %.17g: the exact double back
    }
    for (std::size_t i = 0; i < 4; ++i)  // a larger value is drawn higher (smaller cy)
        for (std::size_t j = 0; j < 4; ++j)
            if (a.y[i] > a.y[j]) CHECK(pa[i].cy < pa[j].cy);
    // The NaN point is skipped; b appears in both panels (two groups, same label).
    std::size_t groups = 0;
    for (std::size_t g = svg.find("data-label=\"run &apos;b&apos;\""); g != std::string::npos;
         g = svg.find("data-label=\"run &apos;b&apos;\"", g + 1))
        ++groups;
    CHECK(groups == 2);
    CHECK(pts.at("run &apos;b&apos;").size() == 4);  // 2 finite points in each of 2 panels

    // Ticks: a step of 1, 2 or 5 times a power of ten, about 5 of them, inside the range.
    const auto t = detail::nice_ticks(0.013, 0.087);
    REQUIRE(t.size() == 4);
    CHECK(std::abs(t.front() - 0.02) < 1e-12);
    CHECK(std::abs(t.back() - 0.08) < 1e-12);
    CHECK(std::abs((t[1] - t[0]) - 0.02) < 1e-12);
    CHECK(detail::nice_ticks(1, 200).size() == 4);  // 50, 100, 150, 200
}

TEST_CASE("read_epoch_log reads what EpochLogWriter wrote, and names the bad line") {
    test::TempDir dir("svg_log");
    std::filesystem::create_directories(dir.path);
    const std::string path = dir.path + "/run.jsonl";
    {
        EpochLogWriter w(path);
        for (int e = 1; e <= 3; ++e) {
            EpochLog l;
            l.epoch = e;
            l.loss = 1.0 / e;
            l.grad_norm = 0.1 * e;
            l.validated = e != 2;
            if (l.validated) {
                l.valid.values.emplace_back("NDCG@10", 0.01 * e);
                l.valid_metric = 0.01 * e;
            }
            w.write(l);
        }
    }
    const auto log = read_epoch_log(path);
    REQUIRE(log.size() == 3);
    CHECK(log[2].epoch == 3);
    CHECK(log[2].loss == 1.0 / 3);
    CHECK(log[1].grad_norm == 0.2);
    CHECK(log[1].valid.empty());
    CHECK(log[2].valid.at("NDCG@10") == 0.03);
    std::ofstream(path, std::ios::app) << "{\"epoch\": 4}\n";
    CHECK_THROWS_WITH_AS(read_epoch_log(path), doctest::Contains("run.jsonl:4: \"loss\" missing"),
                         DataError);
}

TEST_CASE("svg_heat_maps encodes every cell exactly, NaN cells grey, labels escaped") {
    HeatMap h;
    h.title = "layer 1 & head 2";
    h.values.resize(3, 3);
    h.values << 1.0, std::nan(""), std::nan(""), 0.25, 0.75, std::nan(""), 0.1, 0.2, 0.7;
    h.row_labels = {"a", "b<", "c"};
    h.col_labels = h.row_labels;
    HeatMap g = h;
    g.title = "refined";
    const std::string svg = svg_heat_maps({h, g});
    std::string why;
    CHECK_MESSAGE(well_formed(svg, why), why);
    CHECK(svg.find("layer 1 &amp; head 2") != std::string::npos);
    CHECK(svg.find(">b&lt;<") != std::string::npos);
    // Cells: "<title>r c value</title>", 9 per map, in row order.
    std::vector<double> got;
    std::size_t grey = 0;
    for (std::size_t p = svg.find("<rect x="); p != std::string::npos;
         p = svg.find("<rect x=", p + 1)) {
        const std::size_t t = svg.find("<title>", p) + 7;
        long r = 0, c = 0;
        char value[64] = {0};
        REQUIRE(std::sscanf(svg.c_str() + t, "%ld %ld %63[^<]", &r, &c, value) == 3);
        const double v = std::strtod(value, nullptr);
        if (std::isnan(v)) {
            ++grey;
            CHECK(svg.find("fill=\"#dddddd\"", p) < t);
        } else {
            got.push_back(v);
            CHECK(v == h.values(r, c));
        }
    }
    CHECK(grey == 6);
    CHECK(got.size() == 12);
    // The largest value is the darkest cell.
    CHECK(svg.find("fill=\"#08306b\"><title>0 0 1</title>") != std::string::npos);
}
