package org.aiwae.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void inALogAPlainLineEveryIntervalWithAnEta() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong(0);
        Progress p = new Progress(new PrintStream(buf, true), "eval test images", 100, Progress.Mode.LOG, 10 * SECOND, now::get);
        now.set(5 * SECOND);
        p.update(10, "AIS");
        assertEquals("", buf.toString(), "nothing before the interval");
        now.set(10 * SECOND);
        p.update(20, "AIS");
        now.set(15 * SECOND);
        p.update(30, "NVLB");
        now.set(20 * SECOND);
        p.update(40, "NVLB");
        now.set(25 * SECOND);
        p.finish(100, "");
        String[] lines = buf.toString().split("\n");
        assertEquals(3, lines.length, buf.toString());
        // 20 of 100 in 10 s: 40 s left
        assertEquals("eval test images [####                    ] 20/100 eta 0m40s AIS", lines[0]);
        assertTrue(lines[1].contains("40/100 eta 0m30s NVLB"), lines[1]);
        assertTrue(lines[2].endsWith("100/100 0m25s"), lines[2]);
        assertTrue(!buf.toString().contains("\r") && !buf.toString().contains("\u001b"), "no terminal codes in a log");
    }

    @Test
    void etaCountsOnlyWorkDoneSinceAResumeAndScalesUnits() {
        AtomicLong now = new AtomicLong(0);
        Progress p = new Progress(null, "x", 1000, Progress.Mode.LOG, SECOND, now::get).scaled(10).resumedAt(500);
        now.set(10 * SECOND);
        // 100 units in 10 s since the resume: the other 400 take 40 s
        assertEquals("x [##############          ] 60/100 eta 0m40s", p.line(600, ""));
        assertEquals("x [############            ] 50/100 eta ?", p.line(500, ""));
    }

    @Test
    void onATerminalOneRedrawnLine() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        AtomicLong now = new AtomicLong(0);
        Progress p = new Progress(new PrintStream(buf, true), "t", 4, Progress.Mode.LIVE, 10 * SECOND, now::get);
        now.set(SECOND);
        p.update(1, "");
        now.set(2 * SECOND);
        p.update(2, "");
        p.finish(4, "");
        String s = buf.toString();
        assertEquals(1, s.chars().filter(c -> c == '\n').count(), s);
        assertEquals(3, s.chars().filter(c -> c == '\r').count(), s);
        assertEquals("3h25m", Progress.time(12_300));
    }
}
