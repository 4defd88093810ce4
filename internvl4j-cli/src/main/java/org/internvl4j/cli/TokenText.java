package org.internvl4j.cli;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.internvl4j.tokenizer.InternLM2Tokenizer;
import org.internvl4j.tokenizer.LlamaTokenizer;
import org.internvl4j.tokenizer.SentencePieceProcessor;
import org.internvl4j.tokenizer.SentencePieceModel.PieceType;
import org.internvl4j.tokenizer.Tokenizer;

/**
 * The text and UTF-8 bytes of one token, for logprob reports, as the OpenAI API gives them: {@code bytes}
 * are what the token adds to the output ("▁" is a space; a byte-fallback piece {@code <0xE4>} is that
 * one byte), {@code token} is those bytes as text, or {@code \xe4}-style escapes when they are only part
 * of a character. Special tokens are their own text.
 */
record TokenText(String token, byte[] bytes) {

    static TokenText of(Tokenizer tok, int id) {
        String piece = tok.idToToken(id);
        byte[] bytes;
        SentencePieceProcessor sp = tok instanceof InternLM2Tokenizer t ? t.sentencePiece()
                : tok instanceof LlamaTokenizer l ? l.sentencePiece() : null;
        if (sp != null) {
            if (id < sp.size() && sp.pieceType(id) == PieceType.BYTE && piece.matches("<0x[0-9A-Fa-f]{2}>")) {
                bytes = new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
            } else {
                bytes = piece.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
            }
        } else if (tok.addedTokens().containsKey(piece)) {
            bytes = piece.getBytes(StandardCharsets.UTF_8);
        } else {
            bytes = byteLevel(piece);
        }
        return new TokenText(text(bytes), bytes);
    }

    /**
     * Byte-level BPE tokens spell bytes with printable characters: GPT-2's bytes_to_unicode (encoder.py) keeps
     * '!'..'~', '¡'..'¬' and '®'..'ÿ' as themselves and moves the other 68 bytes, in order, to U+0100 upwards.
     */
    static byte[] byteLevel(String token) {
        int[] charToByte = new int[512];
        java.util.Arrays.fill(charToByte, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean kept = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            charToByte[kept ? b : next++] = b;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c < charToByte.length && charToByte[c] >= 0) out.write(charToByte[c]);
            else out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    private static String text(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            StringBuilder sb = new StringBuilder();
            for (byte b : bytes) sb.append(String.format("\\x%02x", b & 0xff));
            return sb.toString();
        }
    }
}
