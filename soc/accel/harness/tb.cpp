// Verilator harness for soc.accel.rtlsim: streams a load image and frames through the core with
// valid/ready (optional seeded random stalls on every stream), records every result word.
//
//   tb IN.bin OUT.bin
// IN  (uint32 LE): magic 'FFSI', n_load, n_frames, frame_words, result_words, n_layers, stall_pct, seed,
//                  max_cycles_per_frame, then n_load load words, then n_frames*frame_words frame words.
// OUT (uint32 LE): status (0 ok, 1 load error, 2 timeout), load_error, n_result_words,
//                  then the result words, then per frame the completion cycle (uint64 as 2 words),
//                  then per layer busy, stall, pairs, empty, then cycles (2 words), first frame start cycle (2).
// Progress: "progress N" lines on stdout every 64 frames.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include "Vtop.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_vcd_c.h"
#endif

static uint64_t rng_state;
static inline uint32_t rnd() {   // xorshift64*
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: tb IN OUT\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    uint32_t hdr[9];
    if (fread(hdr, 4, 9, f) != 9 || hdr[0] != 0x49534646) { fprintf(stderr, "bad input header\n"); return 2; }
    uint32_t n_load = hdr[1], n_frames = hdr[2], fw = hdr[3], rw = hdr[4], n_layers = hdr[5];
    uint32_t stall = hdr[6], max_cpf = hdr[8];
    rng_state = 0x9E3779B97F4A7C15ULL ^ hdr[7];
    std::vector<uint32_t> load(n_load), frames((size_t)n_frames * fw);
    if (fread(load.data(), 4, n_load, f) != n_load ||
        fread(frames.data(), 4, frames.size(), f) != frames.size()) { fprintf(stderr, "truncated input\n"); return 2; }
    fclose(f);

    Verilated::commandArgs(argc, argv);
    Vtop *top = new Vtop;
    uint64_t cyc = 0;
    // inputs are set with the clock low and evaluated once; the rising edge is the second eval
#if VM_TRACE   // opt-in waveform: rtlsim.build(cfg, trace=True), then run with TB_VCD=file.vcd
    Verilated::traceEverOn(true);
    VerilatedVcdC *vcd = nullptr;
    if (getenv("TB_VCD")) { vcd = new VerilatedVcdC; top->trace(vcd, 99); vcd->open(getenv("TB_VCD")); }
    auto tick = [&]() {
        if (vcd) vcd->dump(2 * cyc);
        top->sys_clk = 1; top->eval(); if (vcd) vcd->dump(2 * cyc + 1);
        top->sys_clk = 0; top->eval(); cyc++;
    };
#else
    // inputs are set and evaluated with the clock low; the rising edge is the next eval
    auto tick = [&]() { top->sys_clk = 1; top->eval(); top->sys_clk = 0; cyc++; };
#endif
    auto stalled = [&]() { return stall && (rnd() % 100) < stall; };
    top->sys_clk = 0; top->sys_rst = 1; top->eval();
    for (int i = 0; i < 4; i++) { top->eval(); tick(); }
    top->sys_rst = 0;

    uint32_t status = 0;
    // ---- load phase
    size_t li = 0;
    uint64_t limit = cyc + 4 * (uint64_t)n_load + 1000;
    while (li < n_load && cyc < limit) {
        top->load_valid = !stalled();
        top->load_first = li == 0;
        top->load_data = load[li];
        top->eval();
        bool fire = top->load_valid && top->load_ready;
        tick();
        if (fire) li++;
    }
    top->load_valid = 0;
    for (int i = 0; i < 4; i++) { top->eval(); tick(); }
    top->eval();
    if (!top->load_done) status = top->load_error ? 1 : 2;

    std::vector<uint32_t> res;
    std::vector<uint64_t> done;
    res.reserve((size_t)n_frames * rw);
    top->clear_counters = 1; top->eval(); tick(); top->clear_counters = 0;
    uint64_t t0 = cyc;
    size_t fi = 0, total = frames.size();
    limit = cyc + (uint64_t)max_cpf * (n_frames + 4) + 10000;
    while (status == 0 && done.size() < n_frames) {
        if (cyc >= limit) { status = 2; break; }
        top->frames_valid = fi < total && !stalled();
        top->frames_data = fi < total ? frames[fi] : 0;
        top->frames_last = fi < total && (fi % fw) == fw - 1;
        top->results_ready = !stalled();
        top->eval();
        bool ffire = top->frames_valid && top->frames_ready;
        bool rfire = top->results_valid && top->results_ready;
        uint32_t rdata = top->results_data;
        bool rlast = top->results_last;
        tick();
        if (ffire) fi++;
        if (rfire) {
            res.push_back(rdata);
            if (rlast) {
                done.push_back(cyc);
                if ((done.size() & 63) == 0) { printf("progress %zu\n", done.size()); fflush(stdout); }
            }
        }
    }
    // the last layers may finish before the first ones (pooling drops trailing rows): drain
    for (uint64_t end = cyc + (uint64_t)max_cpf; status == 0 && cyc < end;) {
        top->eval();
        if (top->idle) break;
        tick();
    }
    std::vector<uint32_t> counters;
    for (uint32_t l = 0; l < n_layers; l++)
        for (uint32_t k = 0; k < 4; k++) { top->cnt_sel = l * 4 + k; top->eval(); counters.push_back(top->cnt_data); }
    uint64_t cycles = top->cycles;

    FILE *o = fopen(argv[2], "wb");
    if (!o) { perror(argv[2]); return 2; }
    uint32_t head[3] = {status, (uint32_t)top->load_error, (uint32_t)res.size()};
    fwrite(head, 4, 3, o);
    fwrite(res.data(), 4, res.size(), o);
    for (size_t i = 0; i < n_frames; i++) {
        uint64_t d = i < done.size() ? done[i] : 0;
        uint32_t w[2] = {(uint32_t)d, (uint32_t)(d >> 32)};
        fwrite(w, 4, 2, o);
    }
    fwrite(counters.data(), 4, counters.size(), o);
    uint32_t tail[4] = {(uint32_t)cycles, (uint32_t)(cycles >> 32), (uint32_t)t0, (uint32_t)(t0 >> 32)};
    fwrite(tail, 4, 4, o);
    fclose(o);
#if VM_TRACE
    if (vcd) vcd->close();
#endif
    top->final();
    delete top;
    return 0;
}
