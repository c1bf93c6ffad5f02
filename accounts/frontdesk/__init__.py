"""The front desk: reception finds, enrols, invites and manages patients (issue 5). Never anything clinical."""
