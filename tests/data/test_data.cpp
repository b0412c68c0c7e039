// Readers (three formats, clear errors), id mapping, leave-one-out split, samples, synthetic data.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <seqrec/data/readers.hpp>
#include <seqrec/data/sampler.hpp>
#include <seqrec/data/split.hpp>
#include <seqrec/data/synthetic.hpp>
#include <sstream>
#include <string>

using namespace seqrec;

namespace {
/// A temporary file removed at scope exit.
struct TempFile {
    std::string path;
    TempFile(const std::string& name, const std::string& content)
        : path(std::string(P_tmpdir) + "/seqrec_test_" + name) {
        std::ofstream(path) << content;
    }
    ~TempFile() { std::remove(path.c_str()); }
};

std::string error_of(const std::string& content, DataFormat f, const std::string& name) {
    TempFile file(name, content);
    try {
        read_dataset(file.path, f);
    } catch (const DataError& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST_CASE("lines format: ids remapped in order of first appearance") {
    TempFile f("lines.txt", "10 7 5 7\n20 5 9\n\n30 3\n");
    const Dataset ds = read_dataset(f.path, DataFormat::lines);
    CHECK(ds.num_users() == 3);
    CHECK(ds.num_items() == 4);
    CHECK(ds.sequences[0] == std::vector<ItemId>{1, 2, 1});
    CHECK(ds.sequences[1] == std::vector<ItemId>{2, 3});
    CHECK(ds.items.external(3) == 9);
    CHECK(ds.users.external(3) == 30);
    CHECK(ds.name == "seqrec_test_lines");
}

TEST_CASE("lines format: a user on two lines is an error unless merging is asked for") {
    TempFile f("dup.txt", "10 7 5\n20 5 9\n10 3 4\n");
    CHECK_THROWS_WITH_AS(read_dataset(f.path, DataFormat::lines),
                         doctest::Contains("dup.txt:3: user 10 already has a line (line 1)"),
                         DataError);
    ReadOptions merge;
    merge.merge_duplicate_users = true;
    const Dataset ds = read_dataset(f.path, DataFormat::lines, merge);
    CHECK(ds.num_users() == 2);
    CHECK(ds.sequences[0] == std::vector<ItemId>{1, 2, 4, 5});
}

TEST_CASE("readers refuse unbounded input: a line past the limit, a directory") {
    // 40 bytes allowed: the third line has 41 (its newline not counted), the first two fit.
    std::string fits = "1", long_line = "3";
    for (int i = 0; i < 18; ++i) fits += " 2";       // 37 bytes
    for (int i = 0; i < 20; ++i) long_line += " 4";  // 41 bytes
    TempFile f("long.txt", fits + "\n2 5 6\n" + long_line + "\n4 7 8\n");
    ReadOptions o;
    o.max_line_bytes = 40;
    CHECK_THROWS_WITH_AS(read_dataset(f.path, DataFormat::lines, o),
                         doctest::Contains("long.txt:3: the line is longer than 40 bytes"),
                         DataError);
    o.max_line_bytes = 41;
    CHECK(read_dataset(f.path, DataFormat::lines, o).num_users() == 4);
    // A stream without any newline (like /dev/zero) stops at the limit too.
    std::istringstream zeros(std::string(1000, '\0'));
    o.max_line_bytes = 100;
    CHECK_THROWS_WITH_AS(read_dataset(zeros, "zeros", DataFormat::lines, o),
                         doctest::Contains("zeros:1: the line is longer than 100 bytes"),
                         DataError);
    const std::string dir = f.path + ".d";
    std::filesystem::create_directories(dir);
    CHECK_THROWS_WITH_AS(read_dataset(dir, DataFormat::lines), doctest::Contains("is a directory"),
                         IoError);
    std::filesystem::remove(dir);
}

TEST_CASE("a split where no user can be evaluated is an error, not zero metrics") {
    Dataset ds;
    ds.sequences = {{1}, {2, 3}, {1, 2, 3}};
    CHECK(evaluable_users(leave_one_out(ds)) == 1);
    CHECK_NOTHROW(require_evaluable(leave_one_out(ds), "x"));
    ds.sequences.pop_back();
    CHECK_THROWS_WITH_AS(require_evaluable(leave_one_out(ds), "short.txt"),
                         doctest::Contains("short.txt: no user has 3 or more interactions"),
                         DataError);
}

TEST_CASE("pairs format keeps file order per user") {
    TempFile f("pairs.txt", "1 100\n2 200\n1 300\r\n1 100\n");
    const Dataset ds = read_dataset(f.path, DataFormat::pairs);
    CHECK(ds.sequences[0] == std::vector<ItemId>{1, 3, 1});
    CHECK(ds.sequences[1] == std::vector<ItemId>{2});
}

TEST_CASE("csv format sorts each user by timestamp, stable on ties, header allowed") {
    TempFile f("events.csv", "user,item,timestamp\n1,50,30\n1,60,10\n2,50,5\n1,70,10\n");
    const Dataset ds = read_dataset(f.path, DataFormat::csv);
    // user 1: (60,10) (70,10) (50,30) -> ids 60=2, 70=3, 50=1
    CHECK(ds.sequences[0] == std::vector<ItemId>{2, 3, 1});
    TempFile t("events.tsv", "1\t5\t2.5\n1\t6\t1.5\n");
    CHECK(read_dataset(t.path, DataFormat::tsv).sequences[0] == std::vector<ItemId>{2, 1});
    CHECK(read_dataset(t.path, DataFormat::csv).sequences[0] == std::vector<ItemId>{2, 1});
}

TEST_CASE("timestamped tables: columns by header name, MovieLens and RecBole layouts") {
    // Columns in another order, an extra column, quoted names, a BOM, CRLF.
    TempFile c("named.csv",
               "\xEF\xBB\xBF\"ts\",rating,\"ItemId\",user\r\n20,5,7,1\r\n10,3,8,1\r\n15,1,7,2\r\n");
    Dataset ds = read_dataset(c.path, DataFormat::csv);
    CHECK(ds.sequences == std::vector<std::vector<ItemId>>{{2, 1}, {1}});  // 8 then 7; 7
    CHECK(ds.items.external(1) == 7);
    CHECK(ds.users.external(2) == 2);
    ReadOptions by_name;  // user and item swapped on purpose: names choose, not positions
    by_name.user_column = "itemid";
    by_name.item_column = "USER";
    ds = read_dataset(c.path, DataFormat::csv, by_name);
    CHECK(ds.num_users() == 2);  // users 7 and 8; user 7 rated "1" at 20 and "2" at 15
    CHECK(ds.sequences == std::vector<std::vector<ItemId>>{{2, 1}, {1}});

    TempFile ml("ratings.dat",
                "1::1193::5::978300760\n1::661::3::978302109\n1::914::3::978301968\n"
                "2::1357::5::978298709\n1::3408::4::978300760\n");
    ds = read_dataset(ml.path, data_format_for_path(ml.path));
    // user 1 by time: 1193 (..760), 3408 (..760, later in the file), 914 (..968), 661 (..109)
    std::vector<std::int64_t> got;
    for (ItemId i : ds.sequences[0]) got.push_back(ds.items.external(i));
    CHECK(got == std::vector<std::int64_t>{1193, 3408, 914, 661});

    TempFile rb("x.inter",
                "user_id:token\titem_id:token\trating:float\ttimestamp:float\n3\t9\t1\t2.5\n"
                "3\t4\t1\t1.0\n");
    ds = read_dataset(rb.path, data_format_for_path(rb.path));
    CHECK(ds.items.external(ds.sequences[0][0]) == 4);
    CHECK(data_format_for_path("a.tsv") == DataFormat::tsv);
    CHECK(data_format_for_path("a.txt") == DataFormat::lines);
}

TEST_CASE("timestamped tables: errors name the file, line and what is missing") {
    auto read_error = [](const std::string& name, const std::string& content, DataFormat f,
                         const ReadOptions& o = {}) -> std::string {
        TempFile file(name, content);
        try {
            read_dataset(file.path, f, o);
        } catch (const Error& e) {
            return e.what();
        }
        return "";
    };
    CHECK(read_error("h.csv", "uid,item,timestamp\n1,2,3\n", DataFormat::csv)
              .find("h.csv:1: no user column (looked for user_id, user, userid; the header has "
                    "uid, item, timestamp); name it with --user-column") != std::string::npos);
    ReadOptions o;
    o.user_column = "uid";
    CHECK(read_error("h2.csv", "uid,item,timestamp\n1,2,3\n4,5\n", DataFormat::csv, o)
              .find("h2.csv:3: expected 3 fields (as many as the header), got 2") !=
          std::string::npos);
    CHECK(read_error("n.csv", "1,2,3\n", DataFormat::csv, o)
              .find("n.csv:1: columns are chosen by name, but the file has no header row") !=
          std::string::npos);
    CHECK(read_error("m.dat", "1::2::5\n", DataFormat::movielens)
              .find("m.dat:1: expected 4 fields (user::item::rating::timestamp), got 3") !=
          std::string::npos);
    CHECK(read_error("t.tsv", "1\t2\tinf\n", DataFormat::tsv)
              .find("t.tsv:1: timestamp 'inf' is not a number") != std::string::npos);
    CHECK(read_error("k.txt", "1 2 3\n2 4 5\n", DataFormat::lines,
                     [] {
                         ReadOptions k;
                         k.k_core = 2;
                         return k;
                     }())
              .find("k.txt: no user or item is left after the 2-core filter") != std::string::npos);
}

TEST_CASE("consecutive repeats and the k-core filter") {
    Dataset ds;
    for (int i = 1; i <= 5; ++i) ds.items.add(100 + i);
    for (int u = 1; u <= 4; ++u) ds.users.add(10 * u);
    ds.sequences = {{1, 1, 2, 1, 1}, {2, 3, 3}, {1, 2, 4}, {5}};
    CHECK(drop_consecutive_repeats(ds) == 3);
    CHECK(ds.sequences[0] == std::vector<ItemId>{1, 2, 1});
    CHECK(ds.sequences[1] == std::vector<ItemId>{2, 3});

    // 2-core: items 3, 4 and 5 (one interaction each) go; user 20 is left with {2} and user 40
    // with nothing, so both go; that takes one of item 2's three interactions, and a second
    // round finds every survivor with >= 2.
    k_core(ds, 2);
    CHECK(ds.num_users() == 2);
    CHECK(ds.users.external(1) == 10);
    CHECK(ds.users.external(2) == 30);
    CHECK(ds.num_items() == 2);
    CHECK(ds.items.external(1) == 101);
    CHECK(ds.items.external(2) == 102);
    CHECK(ds.sequences == std::vector<std::vector<ItemId>>{{1, 2, 1}, {1, 2}});
}

TEST_CASE("malformed files give file:line: problem") {
    CHECK(error_of("1 2 3\n2 x 4\n", DataFormat::lines, "a.txt")
              .find("a.txt:2: item id 'x' is not an integer") != std::string::npos);
    CHECK(error_of("1 2 0\n", DataFormat::lines, "b.txt")
              .find("b.txt:1: item id 0 must be positive") != std::string::npos);
    CHECK(error_of("1 2\n-3 4\n", DataFormat::pairs, "c.txt")
              .find("c.txt:2: user id -3 must be positive") != std::string::npos);
    CHECK(error_of("1 2 3\n", DataFormat::pairs, "d.txt").find("d.txt:1: expected 2 fields") !=
          std::string::npos);
    CHECK(error_of("", DataFormat::lines, "e.txt").find("no interactions") != std::string::npos);
    CHECK(
        error_of("7\n", DataFormat::lines, "f.txt").find("f.txt:1: expected a user id followed") !=
        std::string::npos);
    CHECK(error_of("1,2,abc\n", DataFormat::csv, "g.csv").find("g.csv:1: timestamp 'abc'") !=
          std::string::npos);
    CHECK(error_of("1 99999999999999999999\n", DataFormat::lines, "h.txt").find("h.txt:1:") !=
          std::string::npos);
    CHECK_THROWS_AS(read_dataset("/nonexistent/seqrec.txt", DataFormat::lines), IoError);
    // A binary file's bytes are quoted printably and cut short.
    CHECK(error_of(std::string("1 2 \x01\xff") + std::string(100, 'z') + "\n", DataFormat::lines,
                   "bin.txt")
              .find("bin.txt:1: item id '\\x01\\xff" + std::string(32, 'z') + "...'") !=
          std::string::npos);
}

TEST_CASE("leave-one-out split and training windows") {
    Dataset ds;
    ds.sequences = {{1, 2, 3, 4, 5}, {6, 7}, {8, 9, 1}};
    for (int i = 1; i <= 9; ++i) ds.items.add(i);
    const Split s = leave_one_out(ds);
    CHECK(s.train[0] == std::vector<ItemId>{1, 2, 3});
    CHECK(s.valid[0] == 4);
    CHECK(s.test[0] == 5);
    CHECK(s.train[1] == std::vector<ItemId>{6, 7});  // < 3 items: all training, not evaluated
    CHECK(s.test[1] == 0);
    CHECK(s.history(0, true) == std::vector<ItemId>{1, 2, 3, 4});

    TrainSample t;
    make_train_sample({1, 2, 3, 4, 5, 6}, 3, t);
    CHECK(t.input == std::vector<ItemId>{3, 4, 5});
    CHECK(t.target == std::vector<ItemId>{4, 5, 6});
    Rng rng(1);
    sample_negatives(sorted_unique({1, 2, 3, 4, 5, 6}), 8, 100, t.negative, rng);
    for (ItemId n : t.negative) CHECK((n == 7 || n == 8));
}

TEST_CASE("synthetic data is deterministic and sequential") {
    SyntheticOptions o;
    o.users = 50;
    const Dataset a = synthetic_dataset(o), b = synthetic_dataset(o);
    CHECK(a.sequences == b.sequences);
    o.seed = 2;
    CHECK(synthetic_dataset(o).sequences != a.sequences);
    for (const auto& s : a.sequences) {
        CHECK(s.size() >= 8);
        CHECK(sorted_unique(s).size() == s.size());  // no repeats within a user
    }
}
