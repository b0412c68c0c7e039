/// \file io/svg_chart.hpp
/// Charts as SVG, written by the library: line charts (`seqrec plot`: panels side by side, one
/// line per series with a point per value, axes with "nice" ticks, a legend) and heat maps
/// (`seqrec attention`: one matrix per panel). Each point or cell carries a <title> with its
/// exact value, which a browser shows on hover and a test can read back.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "seqrec/core/error.hpp"
#include "seqrec/core/types.hpp"

namespace seqrec {

struct ChartSeries {
    std::string label;
    std::vector<double> x, y;  // same length; non-finite values are skipped
};

struct ChartPanel {
    std::string title, x_label, y_label;
    std::vector<ChartSeries> series;
};

namespace detail {
/// Text safe inside XML elements and attribute values.
inline std::string xml_escape(const std::string& s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                // Control characters are not allowed in XML 1.0.
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n') out += c;
        }
    }
    return out;
}
inline std::string number(double v, int digits = 6) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    return buf;
}
/// The XML declaration, the <svg> element of W x H and a white background.
inline void svg_header(std::ostream& o, double W, double H, int font_size) {
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
      << "\" viewBox=\"0 0 " << W << " " << H << "\" font-family=\"sans-serif\" font-size=\""
      << font_size << "\">\n"
      << "<rect width=\"" << W << "\" height=\"" << H << "\" fill=\"white\"/>\n";
}
/// Tick values covering [lo, hi] at a step of 1, 2 or 5 x 10^k, about `want` of them.
inline std::vector<double> nice_ticks(double lo, double hi, int want = 5) {
    if (!(hi > lo)) hi = lo + 1;
    const double raw = (hi - lo) / want;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (const double m : {1.0, 2.0, 5.0, 10.0})
        if (m * mag >= raw) {
            step = m * mag;
            break;
        }
    std::vector<double> t;
    for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
        t.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    return t;
}
}  // namespace detail

/// The SVG document of `panels` laid out left to right.
inline std::string svg_line_chart(const std::vector<ChartPanel>& panels) {
    SEQREC_CHECK(!panels.empty(), ShapeError, "svg_line_chart: no panels");
    static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    const double pw = 460, ph = 320, left = 70, right = 20, top = 40, bottom = 50;
    std::size_t legend_rows = 0;
    for (const auto& p : panels) legend_rows = std::max(legend_rows, p.series.size());
    const double legend_h = 18.0 * double(legend_rows) + 10;
    const double W = pw * double(panels.size()), H = ph + legend_h;
    std::ostringstream o;
    detail::svg_header(o, W, H, 12);
    for (std::size_t pi = 0; pi < panels.size(); ++pi) {
        const ChartPanel& p = panels[pi];
        const double x0 = pw * double(pi) + left, x1 = pw * double(pi + 1) - right;
        const double y0 = ph - bottom, y1 = top;  // data y grows upwards
        double xlo = std::numeric_limits<double>::infinity(), xhi = -xlo, ylo = xlo, yhi = -xlo;
        for (const auto& s : p.series) {
            SEQREC_CHECK(s.x.size() == s.y.size(), ShapeError, "svg_line_chart: x and y differ");
            for (std::size_t i = 0; i < s.x.size(); ++i)
                if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) {
                    xlo = std::min(xlo, s.x[i]);
                    xhi = std::max(xhi, s.x[i]);
                    ylo = std::min(ylo, s.y[i]);
                    yhi = std::max(yhi, s.y[i]);
                }
        }
        if (!std::isfinite(xlo)) xlo = 0, xhi = 1, ylo = 0, yhi = 1;
        if (!(xhi > xlo)) xhi = xlo + 1;
        if (!(yhi > ylo)) {
            const double pad = ylo == 0 ? 1 : std::abs(ylo) * 0.1;
            ylo -= pad;
            yhi += pad;
        }
        const auto xt = detail::nice_ticks(xlo, xhi), yt = detail::nice_ticks(ylo, yhi);
        xlo = std::min(xlo, xt.front());
        xhi = std::max(xhi, xt.back());
        ylo = std::min(ylo, yt.front());
        yhi = std::max(yhi, yt.back());
        const auto X = [&](double v) { return x0 + (v - xlo) / (xhi - xlo) * (x1 - x0); };
        const auto Y = [&](double v) { return y0 - (v - ylo) / (yhi - ylo) * (y0 - y1); };
        o << "<g class=\"panel\">\n<text x=\"" << (x0 + x1) / 2 << "\" y=\"" << top - 15
          << "\" text-anchor=\"middle\" font-size=\"14\">" << detail::xml_escape(p.title)
          << "</text>\n";
        for (const double t : xt)
            o << "<line x1=\"" << X(t) << "\" y1=\"" << y0 << "\" x2=\"" << X(t) << "\" y2=\"" << y1
              << "\" stroke=\"#eee\"/><text x=\"" << X(t) << "\" y=\"" << y0 + 16
              << "\" text-anchor=\"middle\">" << detail::number(t) << "</text>\n";
        for (const double t : yt)
            o << "<line x1=\"" << x0 << "\" y1=\"" << Y(t) << "\" x2=\"" << x1 << "\" y2=\"" << Y(t)
              << "\" stroke=\"#eee\"/><text x=\"" << x0 - 6 << "\" y=\"" << Y(t) + 4
              << "\" text-anchor=\"end\">" << detail::number(t) << "</text>\n";
        o << "<rect x=\"" << x0 << "\" y=\"" << y1 << "\" width=\"" << x1 - x0 << "\" height=\""
          << y0 - y1 << "\" fill=\"none\" stroke=\"black\"/>\n"
          << "<text x=\"" << (x0 + x1) / 2 << "\" y=\"" << y0 + 34 << "\" text-anchor=\"middle\">"
          << detail::xml_escape(p.x_label) << "</text>\n"
          << "<text transform=\"translate(" << x0 - 52 << " " << (y0 + y1) / 2
          << ") rotate(-90)\" text-anchor=\"middle\">" << detail::xml_escape(p.y_label)
          << "</text>\n";
        for (std::size_t si = 0; si < p.series.size(); ++si) {
            const ChartSeries& s = p.series[si];
            const char* color = colors[si % (sizeof colors / sizeof *colors)];
            o << "<g class=\"series\" data-label=\"" << detail::xml_escape(s.label) << "\">\n"
              << "<polyline fill=\"none\" stroke=\"" << color
              << "\" stroke-width=\"1.5\" points=\"";
            for (std::size_t i = 0; i < s.x.size(); ++i)
                if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
                    o << X(s.x[i]) << "," << Y(s.y[i]) << " ";
            o << "\"/>\n";
            for (std::size_t i = 0; i < s.x.size(); ++i)
                if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
                    o << "<circle cx=\"" << X(s.x[i]) << "\" cy=\"" << Y(s.y[i])
                      << "\" r=\"2\" fill=\"" << color << "\"><title>" << detail::number(s.x[i], 17)
                      << " " << detail::number(s.y[i], 17) << "</title></circle>\n";
            o << "</g>\n";
            const double ly = ph + 14 + 18.0 * double(si);
            o << "<line x1=\"" << x0 << "\" y1=\"" << ly - 4 << "\" x2=\"" << x0 + 24 << "\" y2=\""
              << ly - 4 << "\" stroke=\"" << color << "\" stroke-width=\"2\"/><text x=\"" << x0 + 30
              << "\" y=\"" << ly << "\">" << detail::xml_escape(s.label) << "</text>\n";
        }
        o << "</g>\n";
    }
    o << "</svg>\n";
    return o.str();
}

/// One heat map: values[r][c] drawn as a cell; NaN cells (e.g. the masked upper triangle of a
/// causal attention matrix) are drawn grey. Labels name the rows and columns (may be empty).
struct HeatMap {
    std::string title;
    Matrix<double> values;
    std::vector<std::string> row_labels, col_labels;
};

/// The SVG document of `maps`, `per_row` panels to a row. Colours run from white (0, or the
/// smallest value when it is negative) to dark blue (the largest value of that panel).
inline std::string svg_heat_maps(const std::vector<HeatMap>& maps, int per_row = 2) {
    SEQREC_CHECK(!maps.empty() && per_row > 0, ShapeError, "svg_heat_maps: no maps");
    Index cells = 1;
    for (const auto& m : maps) cells = std::max({cells, m.values.rows(), m.values.cols()});
    const double cell = std::max(6.0, std::min(28.0, 360.0 / double(cells)));
    const double label_w = 56, top = 36, gap = 24;
    const double pw = label_w + cell * double(cells) + gap,
                 ph = top + cell * double(cells) + label_w + gap;
    const int cols = int(std::min<std::size_t>(maps.size(), std::size_t(per_row)));
    const int rows = int((maps.size() + std::size_t(per_row) - 1) / std::size_t(per_row));
    const double W = pw * cols, H = ph * rows;
    std::ostringstream o;
    detail::svg_header(o, W, H, 10);
    for (std::size_t k = 0; k < maps.size(); ++k) {
        const HeatMap& m = maps[k];
        const double ox = pw * double(k % std::size_t(per_row)) + label_w,
                     oy = ph * double(k / std::size_t(per_row)) + top;
        double lo = 0, hi = 0;
        for (Index r = 0; r < m.values.rows(); ++r)
            for (Index c = 0; c < m.values.cols(); ++c)
                if (std::isfinite(m.values(r, c))) {
                    lo = std::min(lo, m.values(r, c));
                    hi = std::max(hi, m.values(r, c));
                }
        if (!(hi > lo)) hi = lo + 1;
        o << "<g class=\"heatmap\" data-title=\"" << detail::xml_escape(m.title) << "\">\n"
          << "<text x=\"" << ox << "\" y=\"" << oy - 12 << "\" font-size=\"13\">"
          << detail::xml_escape(m.title) << " (max " << detail::number(hi, 4) << ")</text>\n";
        for (Index r = 0; r < m.values.rows(); ++r)
            for (Index c = 0; c < m.values.cols(); ++c) {
                const double v = m.values(r, c);
                std::string fill = "#dddddd";
                if (std::isfinite(v)) {  // white -> #08306b
                    const double t = (v - lo) / (hi - lo);
                    char buf[16];
                    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", int(255 - t * (255 - 8)),
                                  int(255 - t * (255 - 48)), int(255 - t * (255 - 107)));
                    fill = buf;
                }
                o << "<rect x=\"" << ox + cell * double(c) << "\" y=\"" << oy + cell * double(r)
                  << "\" width=\"" << cell << "\" height=\"" << cell << "\" fill=\"" << fill
                  << "\"><title>" << r << " " << c << " " << detail::number(v, 17)
                  << "</title></rect>\n";
            }
        const double fs = std::min(10.0, cell * 0.9);
        for (Index r = 0; r < m.values.rows() && r < Index(m.row_labels.size()); ++r)
            o << "<text x=\"" << ox - 4 << "\" y=\"" << oy + cell * (double(r) + 0.75)
              << "\" text-anchor=\"end\" font-size=\"" << fs << "\">"
              << detail::xml_escape(m.row_labels[std::size_t(r)]) << "</text>\n";
        for (Index c = 0; c < m.values.cols() && c < Index(m.col_labels.size()); ++c) {
            const double x = ox + cell * (double(c) + 0.75), y = oy + cell * double(cells) + 4;
            o << "<text transform=\"translate(" << x << " " << y
              << ") rotate(-90)\" text-anchor=\"end\" font-size=\"" << fs << "\">"
              << detail::xml_escape(m.col_labels[std::size_t(c)]) << "</text>\n";
        }
        o << "</g>\n";
    }
    o << "</svg>\n";
    return o.str();
}

}  // namespace seqrec
