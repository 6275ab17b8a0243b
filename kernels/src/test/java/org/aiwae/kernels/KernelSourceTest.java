package org.aiwae.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.aiwae.engine.Tensor;
import org.aiwae.engine.backend.Backend;
import org.aiwae.engine.backend.BinaryOp;
import org.aiwae.engine.backend.ReduceOp;
import org.aiwae.engine.backend.UnaryOp;
import org.aiwae.engine.fused.DecoderKernel;
import org.aiwae.engine.fused.TanhMlpDecoder;
import org.aiwae.engine.random.ChainNoise;
import org.aiwae.engine.random.RandomStream;
import org.aiwae.kernels.cuda.CudaDevice;
import org.aiwae.kernels.opencl.OpenClDevice;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * One kernel source for both dialects: the OpenCL program and the CUDA fatbin are built from the same
 * body, and the host side of each kernel ({@link Kernels}) passes the arguments the body declares, with
 * the types the PTX declares. The CUDA launches cannot run here (no GPU), so this is what checks their
 * argument lists: {@link Kernels} builds the same {@link KernelCall}s for both devices, and every call the
 * launch sequences make is compared with the kernel's signature in the body and in the PTX.
 */
class KernelSourceTest {
    private static final Path KERNELS = Path.of("src/main/kernels");

    /** How an argument is declared: the body's types and the PTX's parameter types they become. */
    private enum Kind {
        BUF("u64"), I32("u32"), I64("u64"), F32("f32");

        final String ptx;

        Kind(String ptx) {
            this.ptx = ptx;
        }

        static Kind of(KernelCall.Arg a) {
            return switch (a) {
                case KernelCall.Arg.Buf b -> BUF;
                case KernelCall.Arg.I32 v -> I32;
                case KernelCall.Arg.I64 v -> I64;
                case KernelCall.Arg.F32 v -> F32;
            };
        }
    }

    /** Each kernel of the body with its parameters' kinds, in the order declared. */
    static Map<String, List<Kind>> bodySignatures(String body) {
        Map<String, List<Kind>> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("KERNEL\\s+void\\s+(\\w+)\\s*\\(([^)]*)\\)").matcher(body);
        while (m.find()) {
            List<Kind> kinds = new ArrayList<>();
            for (String param : m.group(2).split(",")) {
                String p = param.strip().replaceAll("\\s+", " ");
                if (p.contains("*")) {
                    kinds.add(Kind.BUF);
                    continue;
                }
                String type = p.substring(0, p.lastIndexOf(' ')).replace("const ", "");
                kinds.add(switch (type) {
                    case "int", "uint" -> Kind.I32;
                    case "int64", "uint64" -> Kind.I64;
                    case "float" -> Kind.F32;
                    default -> throw new AssertionError("kernel " + m.group(1) + ": parameter type " + type + " is not one Kernels can pass");
                });
            }
            assertTrue(out.put(m.group(1), kinds) == null, "kernel " + m.group(1) + " declared twice");
        }
        return out;
    }

    /**
     * The body's op codes are what the host passes: {@code U_*}, {@code B_*} and {@code R_*} the ordinals of
     * {@link UnaryOp}, {@link BinaryOp} and {@link ReduceOp} (no more, no fewer), {@code EPI_*} sgemm's epilogue codes.
     */
    @Test
    void theBodysOpCodesAreTheJavaEnums() {
        String body = KernelSource.body();
        assertEquals(codes(UnaryOp.values(), UnaryOp::ordinal), defines(body, "U_"), "U_* against UnaryOp");
        assertEquals(codes(BinaryOp.values(), BinaryOp::ordinal), defines(body, "B_"), "B_* against BinaryOp");
        assertEquals(codes(ReduceOp.values(), ReduceOp::ordinal), defines(body, "R_"), "R_* against ReduceOp");
        assertEquals(codes(Kernels.Epilogue.values(), e -> e.code), defines(body, "EPI_"), "EPI_* against Kernels.Epilogue");
    }

    /** The body's integer {@code #define}s whose names start with {@code prefix}: the rest of the name to the value. */
    private static Map<String, Integer> defines(String body, String prefix) {
        Map<String, Integer> out = new TreeMap<>();
        Matcher m = Pattern.compile("(?m)^#define " + prefix + "([A-Z0-9_]+) (\\d+)\\b").matcher(body);
        while (m.find()) {
            assertTrue(out.put(m.group(1), Integer.parseInt(m.group(2))) == null, "#define " + prefix + m.group(1) + " twice");
        }
        return out;
    }

    private static <E extends Enum<E>> Map<String, Integer> codes(E[] values, java.util.function.ToIntFunction<E> code) {
        Map<String, Integer> out = new TreeMap<>();
        for (E e : values) {
            out.put(e.name(), code.applyAsInt(e));
        }
        return out;
    }

    private static int define(String body, String name) {
        Matcher m = Pattern.compile("#define " + name + " (\\d+)").matcher(body);
        assertTrue(m.find(), "#define " + name);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void theOpenClProgramIsTheDialectHeaderAndTheBodyByteForByte() throws IOException {
        String body = KernelSource.body(), program = KernelSource.opencl();
        assertEquals(Files.readString(KERNELS.resolve("aiwae_body.h")), body, "the body in the jar is aiwae_body.h");
        assertTrue(program.startsWith(Files.readString(KERNELS.resolve("dialect_opencl.h"))), "the program starts with dialect_opencl.h");
        assertTrue(program.endsWith(body), "the program ends with the body");
        // the CUDA build: aiwae.cu is nothing but the CUDA dialect header and the same body
        List<String> cu = Files.readAllLines(KERNELS.resolve("aiwae.cu")).stream().filter(l -> !l.isBlank() && !l.startsWith("//")).toList();
        assertEquals(List.of("#include \"dialect_cuda.h\"", "#include \"aiwae_body.h\""), cu);
        // and the body spells nothing in either dialect's own words (the headers do that)
        for (String dialect : List.of("__kernel", "__global", "__local", "__shared__", "__device__", "barrier(", "__syncthreads", "get_global_id",
                "get_local_id", "get_group_id", "threadIdx", "blockIdx", "blockDim", "mul_hi(", "__umulhi", "make_uint4", "(uint4)", "M_PI",
                "long ", "ulong", "unsigned", "#pragma", "extern \"C\"")) {
            assertFalse(body.contains(dialect), "aiwae_body.h uses the dialect-specific " + dialect);
        }
    }

    /** Records launches instead of running them, with buffers that are only sizes. */
    private static final class RecordingDevice implements Device {
        final List<KernelCall> calls = new ArrayList<>();

        private record Fake(long floats) implements Buffer {}

        @Override public String api() { return "recording"; }
        @Override public String name() { return "recording"; }
        @Override public Buffer alloc(long floats) { return new Fake(floats); }
        @Override public void free(Buffer b) {}
        @Override public void write(Buffer dst, float[] src, int off, int n) {}
        @Override public void read(Buffer src, float[] dst, int off, int n) {}
        @Override public void copy(Buffer src, Buffer dst, long floats) {}
        @Override public void write(Buffer dst, long dstOff, float[] src, int off, int n) {}
        @Override public void read(Buffer src, long srcOff, float[] dst, int off, int n) {}
        @Override public void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long n) {}
        @Override public void fill(Buffer dst, long off, long n, float value) {}
        @Override public void launch(KernelCall call) { calls.add(call); }
        @Override public Recording record(Runnable issue) { throw new UnsupportedOperationException("this fake records launches only"); }
        @Override public void close() {}
    }

    /** Every launch of the device backends' sequences (matmul, the primitives, the fused decoder, both kinds of Philox fills). */
    private static List<KernelCall> everyLaunch() {
        RecordingDevice rec = new RecordingDevice();
        RandomStream rng = new RandomStream(9);
        int latent = 3, batch = 2, chains = 6;
        TanhMlpDecoder d = DeviceKernelsTest.decoder(rng, latent, 5, 7);
        try (DeviceBackend backend = new DeviceBackend(rec)) {
            backend.matmul(rng.normal(4, 3).to(backend), false, rng.normal(5, 3).to(backend), true, backend.zeros(4, 5), true);
            // the tensor primitives: every kernel they launch
            Tensor t = rng.normal(2, 3, 4).to(backend);
            backend.unary(org.aiwae.engine.backend.UnaryOp.TANH, t);
            backend.binary(org.aiwae.engine.backend.BinaryOp.MUL, t, rng.normal(3, 1).to(backend));
            backend.binary(org.aiwae.engine.backend.BinaryOp.ADD, t, 2f);
            backend.reduce(org.aiwae.engine.backend.ReduceOp.SUM, t, 1);
            backend.reduce(org.aiwae.engine.backend.ReduceOp.MAX, t, 2);
            backend.sumTo(t, new int[] {3, 1});
            backend.where(backend.zeros(2), t, t);
            new RandomStream(3).normal(backend, 5, 2);
            // the fused decoder: one launch, and the seven-launch sequence it falls back to
            try (DecoderKernel k = backend.decoder(d, chains);
                 DecoderKernel seven = new DeviceDecoderKernel(backend.kernels(), d, chains, false)) {
                k.logJoint(rng.normal(chains, latent), rng.uniform(batch, 7), Tensor.zeros(chains), Tensor.zeros(chains, latent));
                seven.logJoint(rng.normal(chains, latent), rng.uniform(batch, 7), Tensor.zeros(chains), Tensor.zeros(chains, latent));
            }
            // the per-image streams of an evaluation, drawn on the device
            new ChainNoise.PerGroup(3, new long[] {4, 5}, 0).normal(backend, 2, 3);
            // a stream whose key is read from device memory (a recorded training step's)
            new RandomStream(3, 4, 0).keyedBy(backend.zeros(4)).normal(backend, 5, 2);
            // the fused HMC, AIS, step-size and Adam patterns
            Tensor p = rng.normal(4, 3).to(backend), l = rng.normal(4).to(backend), eps = backend.zeros(1, 1);
            backend.mix(p, 0.5f, p, 0.5f);
            backend.scaledDifference(p.reshape(2, 2, 3), p.rows(0, 2), p.rows(0, 2), p.rows(2, 4));
            Tensor q = rng.normal(2, 3).to(backend);
            backend.diagonalGaussian(p.reshape(2, 2, 3), q, q, q, rng.normal(2).to(backend));
            backend.kickDrift(p, eps, 0.5f, p, p);
            Backend.Metropolis m = backend.metropolis(l, p, l, p, l, 1000f, backend.zeros(4));
            backend.selectInto(m.accepted(), p, backend.zeros(4, 3));
            backend.temperedKickDrift(p, eps, 0.5f, p, null, 0.5f, p, 0.5f, p);
            backend.temperedKickDrift(p, eps, 1f, null, new Backend.GaussianScore(q, q, q), 0.5f, p, 0.5f, p);
            backend.temperedMetropolis(l, l, p, l, l, p, 0.5f, 0.5f, l, 1000f, null);
            backend.selectAllInto(m.accepted(), java.util.List.of(p, l), java.util.List.of(backend.zeros(4, 3), backend.zeros(4)));
            backend.reweight(l, l, 0.1f, l, l, backend.zeros(4), backend.zeros(4));
            backend.adaptStepSizes(m.accepted(), 2, 1, 1.1f, 0.9f, 0.01f, 1f, backend.zeros(2), backend.zeros(1));
            // the AIS patterns under a temperature clock (a recorded AIS temperature's), and its tick
            TemperatureClock temperatures = new TemperatureClock(backend, new double[] {0, 0.5, 1}, 1);
            try (DeviceBackend.ClockBinding bound = backend.clocked(temperatures, 1, 2)) {
                backend.temperedKickDrift(p, eps, 0.5f, p, null, 0f, p, 1f, p);
                backend.temperedMetropolis(l, l, p, l, l, p, 0f, 1f, l, 1000f, null);
                backend.reweight(l, l, 0.5f, l, l, backend.zeros(4), backend.zeros(4));
                backend.adaptStepSizes(m.accepted(), 2, 1, 1.1f, 0.9f, 0.01f, 1f, backend.zeros(2), backend.zeros(2).rows(1, 2));
                new ChainNoise.PerGroup(3, new long[] {4, 5}, 2).normal(backend, 2, 3);
            }
            temperatures.tick();
            Tensor clock = backend.zeros(4);
            backend.adamClock(clock, 0.9f, 0.999f, 1e-4f, backend.zeros(1));
            backend.adamUpdate(p, p, backend.zeros(4, 3), backend.zeros(4, 3), 0.9f, 0.999f, clock, backend.zeros(1));
            backend.adamUpdateAll(java.util.List.of(p, l), java.util.List.of(p, l), java.util.List.of(backend.zeros(4, 3), backend.zeros(4)),
                    java.util.List.of(backend.zeros(4, 3), backend.zeros(4)), 0.9f, 0.999f, clock, backend.zeros(1), backend.zeros(1));
            backend.dense(p, q, backend.zeros(2), true);
            backend.denseBackTanh(backend.zeros(4, 2), q, p);
            backend.bernoulliLogLikelihood(p.reshape(2, 2, 3), q);
            backend.bernoulliScore(p.reshape(2, 2, 3), q, l.reshape(2, 2, 1));
            backend.standardNormalLogDensity(p);
            Tensor lse = backend.logSumExp(p, 0);
            backend.logSumExpGrad(p, lse, lse, 0);
            Backend.Kl kl = backend.gaussianKl(p, p);
            backend.gaussianKlGrad(p, kl.variance(), l.reshape(4, 1));
            backend.gaussianTerms(p, 1f);
            backend.expand(l, 1, new int[] {4, 3});
            Tensor sum = backend.scaledSum(p, p, 0.5f);
            backend.scaledSumGrad(sum, p, 0.5f, new int[] {4, 3});
            backend.philoxNormalsThenUniforms(backend.zeros(4), 0, new int[] {5, 2}, new int[] {5});
            Backend.Reparameterized rp = backend.reparameterize(q, q, p.reshape(2, 2, 3));
            backend.reparameterizeGrad(p.reshape(2, 2, 3), p.reshape(2, 2, 3), rp.sigma(), new int[] {2, 3});
            Backend.GaussianLog gl = backend.gaussianLogDensity(p.reshape(2, 2, 3), q, q);
            backend.gaussianLogGrad(gl, l.reshape(2, 2, 1), new int[] {2, 2, 3}, new int[] {2, 3}, new int[] {2, 3});
        }
        return rec.calls;
    }

    @Test
    void everyLaunchPassesTheArgumentsItsKernelDeclares() {
        String body = KernelSource.body();
        Map<String, List<Kind>> signatures = bodySignatures(body);
        assertEquals(36, signatures.size(), "kernels in the body: " + signatures.keySet());
        assertEquals(define(body, "GEMM_TILE"), Kernels.TILE, "sgemm's output block");
        assertEquals(define(body, "GEMM_THREADS"), Kernels.TILE_THREADS, "sgemm's group");
        assertEquals(define(body, "ROW_THREADS"), Kernels.ROW_THREADS, "bernoulli_rows' group");
        assertEquals(define(body, "DEC_ROWS"), Kernels.DECODER_ROWS, "decoder_rows' rows per group");
        assertEquals(define(body, "DEC_THREADS"), Kernels.DECODER_THREADS, "decoder_rows' group");
        assertEquals(define(body, "DEC_LOCAL"), Kernels.DECODER_LOCAL, "decoder_rows' local floats");
        assertTrue(4 * (define(body, "DEC_LOCAL") + define(body, "DEC_KTILE") * (define(body, "DEC_THREADS") + 1)) <= 48 * 1024,
                "decoder_rows' local arrays fit CUDA's 48 KB of static shared memory per block");
        Set<String> launched = new TreeSet<>();
        for (KernelCall call : everyLaunch()) {
            List<Kind> declared = signatures.get(call.name());
            assertNotNull(declared, "launch of " + call.name() + ", which the body does not declare");
            assertEquals(declared, call.args().stream().map(Kind::of).toList(), "arguments of " + call.name());
            KernelCall.Grid g = call.grid();
            int first = call.args().get(0) instanceof KernelCall.Arg.I32 v ? v.value() : 1; // adam_clock: one work-item
            switch (call.name()) {
                case "sgemm" -> {
                    int m = first, n = ((KernelCall.Arg.I32) call.args().get(1)).value();
                    assertEquals(new KernelCall.Grid((n + 63) / 64, (m + 63) / 64, 16, 16), g, "sgemm " + m + "x" + n);
                }
                case "decoder_rows" -> assertEquals(KernelCall.Grid.groups((first + Kernels.DECODER_ROWS - 1) / Kernels.DECODER_ROWS,
                        Kernels.DECODER_THREADS), g, "a group per block of rows");
                case "bernoulli_rows", "reduce_rows" -> assertEquals(KernelCall.Grid.groups(first, Kernels.ROW_THREADS), g, "one group per row");
                case "reduce_axis" -> assertEquals(KernelCall.Grid.linear(first * ((KernelCall.Arg.I32) call.args().get(2)).value()), g,
                        "one work-item per output");
                case "philox_fill", "philox_fill_keyed" -> assertEquals(KernelCall.Grid.linear((first + 3) / 4), g, "one work-item per Philox block");
                default -> assertEquals(KernelCall.Grid.linear(first), g, call.name() + ": one work-item per count");
            }
            launched.add(call.name());
        }
        assertEquals(new TreeSet<>(signatures.keySet()), launched, "every kernel of the body is launched by the sequences checked");
    }

    /** The images of an (uncompressed) fatbin: kind 1 = PTX, 2 = ELF; the architecture; the payload. */
    record Image(int kind, int arch, byte[] payload) {}

    static List<Image> fatbinImages(byte[] fatbin) {
        ByteBuffer b = ByteBuffer.wrap(fatbin).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xBA55ED50, b.getInt(0), "fatbin magic");
        int header = b.getShort(6) & 0xFFFF;
        long end = header + b.getLong(8);
        assertEquals(fatbin.length, end, "fatbin size");
        List<Image> out = new ArrayList<>();
        for (int off = header; off < end; ) {
            int kind = b.getShort(off) & 0xFFFF, entryHeader = b.getInt(off + 4);
            int size = (int) b.getLong(off + 8), arch = b.getInt(off + 28);
            byte[] payload = new byte[size];
            b.get(off + entryHeader, payload);
            out.add(new Image(kind, arch, payload));
            off += entryHeader + size;
        }
        return out;
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = CudaDevice.class.getResourceAsStream(name)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    private static boolean nvccHere() {
        if (Files.isExecutable(Path.of("/usr/local/cuda/bin/nvcc"))) {
            return true;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void theCudaFatbinIsTheSameBodyAsPtxForCompute75AndSm90Code() throws IOException, NoSuchAlgorithmException {
        byte[] fatbin = resource("aiwae.fatbin"), build = resource("aiwae.build");
        if (fatbin == null) {
            if (nvccHere()) {
                fail("nvcc is installed but the build put no aiwae.fatbin into the kernels jar");
            }
            Assumptions.abort("skipped: no nvcc when the kernels module was built, so no CUDA kernels to check");
        }
        assertNotNull(build, "aiwae.build next to aiwae.fatbin");
        Properties p = new Properties();
        p.load(new java.io.StringReader(new String(build, StandardCharsets.UTF_8)));
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(KernelSource.body().getBytes(StandardCharsets.UTF_8)));
        assertEquals(sha, p.getProperty("body.sha256"), "the fatbin was compiled from the body the OpenCL program is built from");

        List<Image> images = fatbinImages(fatbin);
        assertEquals(List.of("PTX compute_75", "ELF sm_90"),
                images.stream().map(i -> (i.kind() == 1 ? "PTX compute_" : i.kind() == 2 ? "ELF sm_" : "kind " + i.kind() + " ") + i.arch()).toList());
        String ptx = new String(images.get(0).payload(), StandardCharsets.US_ASCII);
        assertTrue(Pattern.compile("(?m)^\\.target sm_75$").matcher(ptx).find(), "the PTX targets sm_75 (compute_75)");
        assertTrue(new String(images.get(1).payload(), 0, 4, StandardCharsets.ISO_8859_1).equals("\u007fELF"), "the sm_90 image is an ELF cubin");

        // the PTX's entry points are the body's kernels, with the parameter types Kernels passes
        Map<String, List<String>> entries = new TreeMap<>();
        Matcher m = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)").matcher(ptx);
        while (m.find()) {
            List<String> types = new ArrayList<>();
            Matcher t = Pattern.compile("\\.param\\s+\\.(\\w+)").matcher(m.group(2));
            while (t.find()) {
                types.add(t.group(1));
            }
            entries.put(m.group(1), types);
        }
        Map<String, List<String>> expected = new TreeMap<>();
        bodySignatures(KernelSource.body()).forEach((name, kinds) -> expected.put(name, kinds.stream().map(k -> k.ptx).toList()));
        assertEquals(expected, entries, "PTX entries and their parameter types");
    }

    @Test
    void theOpenClProgramHasTheBodysKernels() {
        OpenClDevice d;
        try {
            d = OpenClDevice.open(false);
        } catch (BackendUnavailableException e) {
            if (System.getenv("AIWAE_REQUIRE_OPENCL") != null) {
                throw new AssertionError("AIWAE_REQUIRE_OPENCL is set but " + e.getMessage());
            }
            Assumptions.abort("skipped: " + e.getMessage());
            return;
        }
        try (d) {
            String[] names = d.kernelNames();
            java.util.Arrays.sort(names);
            assertArrayEquals(new TreeSet<>(bodySignatures(KernelSource.body()).keySet()).toArray(String[]::new), names);
        }
    }
}
