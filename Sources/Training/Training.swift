// Training: AdamW, learning-rate schedules, MLM masking and the trainers. Filled by the engine issue.
