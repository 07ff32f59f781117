"""The clinic kit: an A4 leaflet (PDF) to print for a Puskesmas, built from the bot's own texts.

`kit.leaflet.build_kit_pdf(texts, lang, clinic, mother_link)`; the command line in `kit.cli`
(`sahabat-nifas clinic kit`); a midwife gets hers in Telegram with /kit (`flows.kit`).
Nothing is imported here, so the command line starts without loading reportlab.
"""
