from pylot.engines.llama_cpp.text_stream import StopMatcher, Utf8Assembler


def test_utf8_assembler_never_splits_cyrillic_or_cjk_characters() -> None:
    text = "Привет, 世界! 🙂"
    data = text.encode("utf-8")
    out = Utf8Assembler()
    pieces = [out.feed(data[i : i + 1]) for i in range(len(data))]
    assert "".join(pieces) + out.flush() == text
    for piece in pieces:
        piece.encode("utf-8")  # every emitted piece is whole text
        assert "\ufffd" not in piece


def test_stop_matcher_holds_back_a_possible_stop_and_cuts_at_it() -> None:
    stops = StopMatcher(["\n\n", "END"])
    assert stops.feed("return a") == ("return a", False)
    assert stops.feed(" + b\n") == (" + b", False)  # "\n" could start "\n\n": held
    assert stops.feed("\nmore") == ("", True)


def test_stop_matcher_releases_held_text_that_was_not_a_stop() -> None:
    stops = StopMatcher(["END"])
    assert stops.feed("the EN") == ("the ", False)
    assert stops.feed("D") == ("", True)
    stops = StopMatcher(["END"])
    assert stops.feed("the EN") == ("the ", False)
    assert stops.feed("try") == ("ENtry", False)
    assert stops.flush() == ""


def test_stop_matcher_without_stops_passes_everything() -> None:
    assert StopMatcher([]).feed("abc") == ("abc", False)
