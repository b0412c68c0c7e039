// libFuzzer target: every interaction-log reader and option. The first byte picks the format and
// the options; the rest is the file. Besides not crashing, what is read must hold together.
#include <cstdint>
#include <cstdlib>
#include <seqrec/data/readers.hpp>
#include <seqrec/data/split.hpp>
#include <sstream>

using namespace seqrec;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const unsigned control = data[0];
    static const DataFormat formats[] = {DataFormat::lines,     DataFormat::pairs,
                                         DataFormat::csv,       DataFormat::tsv,
                                         DataFormat::movielens, DataFormat::recbole};
    const DataFormat format = formats[(control & 7) % 6];
    ReadOptions o;
    o.merge_duplicate_users = control & 8;
    o.drop_consecutive_repeats = control & 16;
    o.k_core = Index((control >> 5) & 3);
    if (control & 128) o.item_column = "product";
    std::istringstream in(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
    try {
        const Dataset ds = read_dataset(in, "fuzz.txt", format, o);
        std::vector<Index> count(std::size_t(ds.num_items()) + 1, 0);
        for (const auto& seq : ds.sequences)
            for (const ItemId i : seq) {
                if (i < 1 || i > ds.num_items()) std::abort();  // ids outside the map
                ++count[std::size_t(i)];
            }
        if (o.k_core > 1) {
            for (const auto& seq : ds.sequences)
                if (Index(seq.size()) < o.k_core) std::abort();  // the k-core does not hold
            for (Index i = 1; i <= ds.num_items(); ++i)
                if (count[std::size_t(i)] < o.k_core) std::abort();
        }
        const Split split = leave_one_out(ds);
        (void)evaluable_users(split);
    } catch (const Error&) {  // a message in our words is the expected way to refuse input
    }
    return 0;
}
