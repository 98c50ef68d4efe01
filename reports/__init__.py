"""Published and internal outputs: controlling workbook, council report, exports, previews.

Everything here reads the marts (docs/marts.md) and writes files; published figures pass through
`suppression` first.
"""
