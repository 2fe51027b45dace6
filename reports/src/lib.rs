//! Run reports: Markdown summary, self-contained HTML with SVG charts, JSON results, JUnit XML
