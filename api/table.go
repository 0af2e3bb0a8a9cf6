package api

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/kuozheng/kuozheng/api/importer"
	"github.com/kuozheng/kuozheng/domain"
	"github.com/xuri/excelize/v2"
)

// csvBOM begins every CSV the API writes, in an answer or a zip: without it Excel reads UTF-8 as
// the system's code page (GBK on a Chinese Windows) and garbles every Chinese header and name.
const csvBOM = "\ufeff"

// writeTable answers rows, a header row first, as a download named name: "csv" (UTF-8, a
// byte-order mark first) or "xlsx" (one sheet). number says which columns of the data rows are
// figures, written to the sheet as numbers; codes stay text, keeping their leading zeros. on is
// the ledger's date the table is as of, the workbook's creation and modification dates (midnight
// in China), as a PDF's are: no clock reading, and not the spreadsheet library's own defaults.
func (s *Server) writeTable(w http.ResponseWriter, format, name, sheet string, rows [][]string, number func(col int) bool, on domain.Date) error {
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
		// The status is sent with the first bytes: an error after it can only end the answer
		// early, which the client sees as a cut download, and the log records. A byte-order mark
		// first, as the import's rejected rows have: without it Excel reads UTF-8 as the
		// system's code page (GBK on a Chinese Windows) and garbles every Chinese header and name.
		if _, err := io.WriteString(w, csvBOM); err != nil {
			return nil
		}
		cw := csv.NewWriter(w)
		var safe []string
		for _, row := range rows {
			safe = safe[:0]
			for _, v := range row {
				safe = append(safe, importer.SpreadsheetText(v))
			}
			if cw.Write(safe) != nil {
				break
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			s.cfg.Log.Warn("a CSV answer was cut short", "name", name, "err", err)
		}
		return nil
	}
	f := excelize.NewFile()
	defer f.Close()
	at := on.StartInChina().UTC().Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "kuozheng", LastModifiedBy: "kuozheng", Title: name, Created: at, Modified: at}); err != nil {
		return err
	}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	for i, row := range rows {
		cells := make([]any, len(row))
		for j, v := range row {
			cells[j] = v
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && i > 0 && number(j) {
				cells[j] = n
			}
			if v == "" {
				cells[j] = nil // a blank cell (an undefined rate), not an empty text
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.xlsx"`, name))
	return f.Write(w)
}
