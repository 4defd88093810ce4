package org.internvl4j.cli;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.internvl4j.tokenizer.InternLM2Tokenizer;
import org.internvl4j.tokenizer.SentencePieceModel.PieceType;

/**
 * The text and UTF-8 bytes of one token, for logprob reports, as the OpenAI API gives them: {@code bytes}
 * are what the token adds to the output ("▁" is a space; a byte-fallback piece {@code <0xE4>} is that
 * one byte), {@code token} is those bytes as text, or {@code \xe4}-style escapes when they are only part
 * of a character. Special tokens are their own text.
 */
record TokenText(String token, byte[] bytes) {

    static TokenText of(InternLM2Tokenizer tok, int id) {
        String piece = tok.idToToken(id);
        byte[] bytes;
        if (id < tok.sentencePiece().size() && tok.sentencePiece().pieceType(id) == PieceType.BYTE
                && piece.matches("<0x[0-9A-Fa-f]{2}>")) {
            bytes = new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
        } else {
            bytes = piece.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
        }
        return new TokenText(text(bytes), bytes);
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
