"""Free text from billing data on its way out (a table on a terminal, an ERP file): the characters no output keeps as
they are."""

#: Control characters but tab, line feed and carriage return (C0, DEL, C1), as the body of a character class. None
#: means anything in a name or a comment; an escape sequence drives a terminal, and an importer built on XML refuses
#: a file holding one (XML 1.0 allows none of them).
CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
#: The bidirectional controls, which reorder what follows them on a line (a terminal shows the row reordered).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
