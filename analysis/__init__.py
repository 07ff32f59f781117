"""Offline before/after analysis for Sahabat Nifas (no Telegram code).

Modules:
    stats      -- milk_flow_analysis, quiz_analysis (scipy-based tests)
    csv_input  -- load_csv, analyze_file, AnalysisInputError
    report     -- format_text (English / Bahasa Indonesia)
    chart      -- milk_flow_chart_png (matplotlib, Agg backend)
    export     -- write_csv, write_xlsx (streaming writers)
    cli        -- main(argv) for ``sahabat-nifas analyze``
"""
