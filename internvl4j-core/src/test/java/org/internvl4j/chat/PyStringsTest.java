package org.internvl4j.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class PyStringsTest {
    /** Output of {@code [c for c in range(0x110000) if chr(c).isspace()]} under CPython 3.11. */
    private static final Set<Integer> PYTHON_ISSPACE = Set.of(0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
            0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
            0x2028, 0x2029, 0x202f, 0x205f, 0x3000);

    @Test
    void isSpaceMatchesPythonOverAllCodePoints() {
        Set<Integer> ours = IntStream.range(0, 0x110000).filter(PyStrings::isSpace).boxed().collect(Collectors.toSet());
        assertThat(ours).isEqualTo(PYTHON_ISSPACE);
    }

    @Test
    void stripRemovesPythonWhitespaceOnly() {
        assertThat(PyStrings.strip("\u00a0\u0085 a b\u3000\u2029\n")).isEqualTo("a b");
        assertThat(PyStrings.strip("\u200b x \u200b")).isEqualTo("\u200b x \u200b"); // ZWSP is not whitespace
        assertThat(PyStrings.strip("\u001c\u001fx")).isEqualTo("x");
        assertThat(PyStrings.strip(" \t ")).isEmpty();
        assertThat(PyStrings.strip("😀 ")).isEqualTo("😀");
        assertThat(PyStrings.strip("")).isEmpty();
    }
}
