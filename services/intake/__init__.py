"""Intake: declaration, screening, annual plan and approval (申报、形式审查、年度计划、批复)."""
